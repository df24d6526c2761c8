"""bot/rasa/logistic.py: scikit-learn's multinomial logistic regression, fitted on split columns."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from bot.rasa import logistic


def features(seed: int = 0, n: int = 400, classes: int = 5):
    """Sparse count-like columns and dense embedding-like columns, as the classifier gets them."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, classes, n)
    counts = sp.random(n, 60, density=0.05, random_state=rng, format="csr")
    counts.data[:] = 1.0
    centres = rng.randn(classes, 12)
    dense = centres[y] + rng.randn(n, 12)
    x = sp.hstack([counts, sp.csr_matrix(dense)]).tocsr()
    labels = np.array([f"intent_{i}" for i in range(classes)])[y]
    # Unbalanced, so that the class weights matter.
    keep = (y != 0) | (rng.rand(n) < 0.3)
    return x[keep], labels[keep]


def clf(**params) -> LogisticRegression:
    return LogisticRegression(**{"C": 1.0, "class_weight": "balanced", "max_iter": 5000, "tol": 1e-8, **params})


@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_the_fit_is_scikit_learns_at_the_optimum(class_weight):
    x, y = features()
    theirs = clf(class_weight=class_weight).fit(x, y)
    ours = logistic.fit(clf(class_weight=class_weight), x, y)
    assert list(ours.classes_) == list(theirs.classes_)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-5)


def test_the_fitted_model_is_a_scikit_learn_model_that_persists():
    x, y = features(seed=1)
    ours = logistic.fit(clf(), x, y)
    again = pickle.loads(pickle.dumps(ours))
    assert (again.predict(x) == ours.predict(x)).all()
    assert ours.n_iter_[0] > 0


def test_the_dense_columns_are_found_and_the_products_are_exact():
    x, _ = features(seed=2)
    split = logistic.SplitMatrix(x)
    assert split.dense.shape[1] == 12 and split.n_sparse == 60
    w = np.random.RandomState(3).randn(x.shape[1], 4)
    np.testing.assert_allclose(split.dot(w[split.order]), x @ w)
    g = np.random.RandomState(4).randn(x.shape[0], 4)
    np.testing.assert_allclose(split.t_dot(g), (x.T @ g)[split.order])


def test_it_applies_only_where_the_objective_is_the_same():
    _, y = features()
    assert logistic.applies(clf(), y)
    assert not logistic.applies(clf(solver="saga"), y)
    assert not logistic.applies(clf(class_weight={"intent_0": 2.0}), y)
    assert not logistic.applies(clf(fit_intercept=False), y)
    assert not logistic.applies(clf(), np.array(["a", "b", "a"]))
