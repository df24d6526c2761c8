"""The encoder trial's cascade: only unsure rows take the joint reading (bot/devtools/encoder_trial.py)."""

import numpy as np

from bot.devtools.encoder_trial import EVERY, cascade

FIRST = np.array([[0.9, 0.1, 0.0], [0.4, 0.35, 0.25]])
SECOND = np.array([[0.0, 1.0, 0.0], [0.1, 0.8, 0.1]])


def test_a_sure_row_keeps_the_classifiers_topic_and_an_unsure_one_takes_both_models_product():
    chosen, escalated = cascade(FIRST, SECOND, threshold=0.7)
    assert escalated.tolist() == [False, True]
    assert chosen.tolist() == [0, 1]  # row 2: 0.4*0.1 < 0.35*0.8


def test_escalating_every_row_reads_the_sure_one_with_the_encoder_too():
    chosen, escalated = cascade(FIRST, SECOND, threshold=EVERY)
    assert escalated.all()
    assert chosen.tolist() == [1, 1]  # row 1: 0.1*1.0 beats 0.9*~0


def test_threshold_zero_is_the_classifier_alone():
    chosen, escalated = cascade(FIRST, SECOND, threshold=0.0)
    assert not escalated.any()
    assert chosen.tolist() == FIRST.argmax(axis=1).tolist()
