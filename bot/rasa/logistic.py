"""scikit-learn's multinomial logistic regression (lbfgs, L2), fitted faster on mixed features.

The classifier's training matrix joins sparse count vectors (a few dozen non-zeros
per line) and two dense sentence embeddings (every entry non-zero), all held as one
sparse matrix. scikit-learn multiplies it as sparse throughout, and the dense
columns, few of them but most of the non-zeros, cost most of each of its up to
`max_iter` iterations. Here the dense columns are multiplied as a dense array (BLAS)
and the rest as sparse, and the objective is scikit-learn 1.1's own: the
class-weighted sum of the multinomial log loss plus ||W||² / 2C, the intercept
unpenalised, minimised by the same L-BFGS-B with the same `gtol` and `maxiter`
from the same zero start. The result lands in the LogisticRegression object's own
attributes, so prediction, persistence and Rasa's code see scikit-learn's model.
tests/bot/test_logistic.py checks it against scikit-learn's fit.
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
import scipy.sparse as sp
from scipy import optimize
from scipy.special import logsumexp

# A column non-zero in more than this share of the rows is multiplied as dense.
DENSE_FILL = 0.5


class SplitMatrix:
    """A matrix as its mostly-filled columns (dense) and the rest (sparse), the sparse ones first."""

    def __init__(self, x: Any, fill: float = DENSE_FILL) -> None:
        x = sp.csc_matrix(x, dtype=np.float64)
        filled = np.diff(x.indptr) > fill * x.shape[0]
        self.order = np.concatenate([np.flatnonzero(~filled), np.flatnonzero(filled)])
        self.n_sparse = int((~filled).sum())
        self.sparse = x[:, self.order[: self.n_sparse]].tocsr()
        self.sparse_t = self.sparse.T.tocsr()
        self.dense = np.ascontiguousarray(x[:, self.order[self.n_sparse :]].toarray())
        self.shape = x.shape

    def dot(self, w: np.ndarray) -> np.ndarray:
        """x @ w, for w's rows in `order`."""
        return np.asarray(self.sparse @ w[: self.n_sparse]) + self.dense @ w[self.n_sparse :]

    def t_dot(self, g: np.ndarray) -> np.ndarray:
        """x.T @ g, its rows in `order`."""
        return np.vstack([np.asarray(self.sparse_t @ g), self.dense.T @ g])


def applies(clf: Any, y: Any) -> bool:
    """Whether `clf` is fitted here: lbfgs, L2, an intercept, no warm start, three classes or more."""
    params = clf.get_params()
    return (
        params.get("solver") == "lbfgs"
        and params.get("penalty") == "l2"
        and params.get("fit_intercept", True)
        and params.get("multi_class") in ("auto", "multinomial")
        and not params.get("warm_start")
        and params.get("class_weight") in (None, "balanced")
        and len(np.unique(np.asarray(y))) >= 3
    )


def fit(clf: Any, x: Any, y: Any) -> Any:
    """Fits the sklearn LogisticRegression `clf` on (x, y) as clf.fit would; returns clf."""
    params = clf.get_params()
    classes, index = np.unique(np.asarray(y), return_inverse=True)
    n, k = len(index), len(classes)
    if params.get("class_weight") == "balanced":
        weights = (n / (k * np.bincount(index, minlength=k)))[index]
    else:
        weights = np.ones(n)
    matrix = SplitMatrix(x)
    d = matrix.shape[1]
    coef, intercept, iterations = _minimise(matrix, index, weights, k, float(params["C"]), params)
    clf.coef_ = np.empty((k, d))
    clf.coef_[:, matrix.order] = coef
    clf.intercept_ = intercept
    clf.classes_ = classes
    clf.n_iter_ = np.array([iterations], dtype=np.int32)
    clf.n_features_in_ = d
    return clf


def _minimise(
    matrix: SplitMatrix, index: np.ndarray, weights: np.ndarray, k: int, c: float, params: dict
) -> Tuple[np.ndarray, np.ndarray, int]:
    n, d = matrix.shape
    rows = np.arange(n)
    onehot = np.zeros((n, k))
    onehot[rows, index] = 1.0

    def loss_and_gradient(w: np.ndarray) -> Tuple[float, np.ndarray]:
        coef, b = w[: d * k].reshape(d, k), w[d * k :]
        raw = matrix.dot(coef) + b
        norm = logsumexp(raw, axis=1)
        loss = float(np.dot(weights, norm - raw[rows, index])) + 0.5 / c * float(np.vdot(coef, coef))
        grad = (np.exp(raw - norm[:, None]) - onehot) * weights[:, None]
        return loss, np.concatenate([(matrix.t_dot(grad) + coef / c).ravel(), grad.sum(axis=0)])

    result = optimize.minimize(
        loss_and_gradient,
        np.zeros(d * k + k),
        method="L-BFGS-B",
        jac=True,
        options={"gtol": float(params["tol"]), "maxiter": int(params["max_iter"])},
    )
    w = result.x
    return w[: d * k].reshape(d, k).T, w[d * k :].copy(), int(result.nit)
