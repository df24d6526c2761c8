"""make review-train (bot/ops/review/retrain.py) without a model: the blind check, bad input, the replacement.

Everything runs on copies in tmp_path: the checkout's data/ and models/ are never written. The
comparison on real models and one real training: tests/nlu/test_review_train.py.
"""

from __future__ import annotations

from pathlib import Path

from bot.ops.review import retrain
from bot.similarity import held_out_texts
from tests.support.reviewed import write_reviewed


def a_model(tmp_path: Path, content: bytes = b"the current model") -> Path:
    model = tmp_path / "models" / "careerbot.tar.gz"
    model.parent.mkdir()
    model.write_bytes(content)
    return model


def test_a_reviewed_near_copy_of_a_test_line_is_refused_before_anything_is_trained(tmp_path, capsys):
    test_line = held_out_texts(retrain.TEST_SET)[7]
    write_reviewed(tmp_path / "data", "reviewed.yml", {"ask_pay": ["what do servicing specialists earn a year"]})
    write_reviewed(tmp_path / "data", "reviewed_out_of_scope.yml", {"out_of_scope": [test_line + "?"]})
    model = a_model(tmp_path)

    code = retrain.main(["--data", str(tmp_path / "data"), "--model", str(model)])

    err = capsys.readouterr().err
    assert code == 1
    assert "refused, nothing trained" in err
    assert repr(test_line + "?") in err and "tests/nlu/test_set.yml" in err
    assert "reviewed_out_of_scope.yml" in err and "earn a year" not in err
    assert model.read_bytes() == b"the current model"
    assert sorted(p.name for p in model.parent.iterdir()) == ["careerbot.tar.gz"]


def test_with_nothing_reviewed_nothing_is_trained(tmp_path, capsys):
    write_reviewed(tmp_path / "data", "reviewed.yml", {})
    model = a_model(tmp_path)

    assert retrain.main(["--data", str(tmp_path / "data"), "--model", str(model)]) == 0

    assert "nothing reviewed" in capsys.readouterr().out
    assert model.read_bytes() == b"the current model"


def test_a_bad_reviewed_file_or_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "reviewed.yml").write_text("nlu: [- intent: {", encoding="utf-8")
    assert retrain.main(["--data", str(tmp_path / "data"), "--model", str(a_model(tmp_path))]) == 1
    assert retrain.main(["--data", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "reviewed.yml: not a Rasa NLU file" in err[0] and "no data folder" in err[1]


def test_the_candidate_replaces_the_model_atomically_and_the_previous_is_kept(tmp_path):
    model = a_model(tmp_path)
    candidate = tmp_path / "work" / "candidate.tar.gz"
    candidate.parent.mkdir()
    candidate.write_bytes(b"the candidate")

    previous = retrain.install(candidate, model)

    assert previous == model.parent / "careerbot.previous.tar.gz"
    assert (model.read_bytes(), previous.read_bytes()) == (b"the candidate", b"the current model")
    assert sorted(p.name for p in model.parent.iterdir()) == ["careerbot.previous.tar.gz", "careerbot.tar.gz"]
