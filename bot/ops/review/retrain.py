"""make review-train: a candidate model trained with the reviewed lines replaces the current one only if no
blind figure gets worse.

    python -m bot.ops.review.retrain [--data DIR] [--model models/careerbot.tar.gz] [--candidate FILE]

1. Reads the reviewed lines (data/nlu/reviewed.yml and reviewed_out_of_scope.yml under `--data`).
   A line 0.85 or more similar to a held-out test or dev line (bot.similarity.near_held_out) is
   refused, naming both lines and the file, and nothing is trained: the test sets stay blind.
   With no reviewed line there is nothing to do.
2. Trains a candidate from `--data` in a temporary folder, with a training cache of its own
   (Rasa's RASA_CACHE_DIRECTORY), never over the current model; `--candidate` takes one trained
   elsewhere instead (on a larger machine, say).
3. Scores the current model and the candidate (python -m bot.devtools.evaluate --json) on the
   blind test set, its misspelled variant and the off-topic dev split, and prints them side by
   side: intent and answer accuracy per set, and the leak (off-topic lines given a career fact).
   The candidate must also pass the test stories (tests/stories, `rasa test core`, as make
   test-stories): their user lines go through the NLU, so reviewed lines can break them, and
   they take seconds.
4. Replaces the model only if no accuracy is lower, no leak higher and the stories pass: the
   current model is kept as careerbot.previous.tar.gz beside it, and the new one moved in with
   os.replace (a reader sees the old file or the new one, never half of one). Otherwise it exits
   with status 1, naming each figure that got worse, and the current model is not touched.

The operators' layer never imports Rasa: training and scoring run as subprocesses. The bot
loads its model when it starts: restart it after an accepted retrain.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from bot import PROJECT_DIR
from bot.ops.review.decisions import DATA_DIR, REVIEWED, REVIEWED_OUT_OF_SCOPE
from bot.settings import Settings, SettingsError, environment
from bot.similarity import near_held_out, nlu_examples

REVIEWED_FILES = (REVIEWED, REVIEWED_OUT_OF_SCOPE)
# The blind NLU set; bot.devtools.evaluate adds its misspelled variant and the off-topic dev split.
TEST_SET = PROJECT_DIR / "tests" / "nlu" / "test_set.yml"
TEST_STORIES = PROJECT_DIR / "tests" / "stories"


class RetrainError(Exception):
    """One line for the owner, and exit status 1."""


def reviewed_by_file(data_dir: Path) -> List[Tuple[str, Path]]:
    """(text, file) of every reviewed example under `data_dir`."""
    found = []
    for relative in REVIEWED_FILES:
        path = data_dir / relative
        if path.is_file():
            try:
                found += [(text, path) for text, _ in nlu_examples(path)]
            except (yaml.YAMLError, KeyError, TypeError) as error:
                raise RetrainError(f"{path}: not a Rasa NLU file: {str(error).splitlines()[0]}") from None
    return found


def near_copies(lines: Sequence[Tuple[str, Path]]) -> List[str]:
    """A message per reviewed line that is a near-copy of a held-out test or dev line."""
    files = dict(lines)
    return [
        f"the reviewed line {text!r} ({_shown(files[text])}) is {ratio:.2f} similar to the line {line!r} of "
        f"{_shown(held)}: it would make that test set less blind; undo its decision and run again"
        for text, line, held, ratio in near_held_out(files)
    ]


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR)) if path.is_relative_to(PROJECT_DIR) else str(path)


def _run(command: List[str], log: Path, env: Optional[Dict[str, str]] = None) -> int:
    """Runs a Python module from the project folder (the model's spaCy path is relative to it), output to `log`."""
    with open(log, "wb") as out:
        return subprocess.run(
            [sys.executable, "-m", *command], cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT, env=env
        ).returncode


def _failed(what: str, code: int, log: Path) -> RetrainError:
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return RetrainError(f"{what} failed (exit {code}, log {log}): {lines[-1] if lines else 'no output'}")


def train(data_dir: Path, work: Path) -> Path:
    """The candidate, trained from `data_dir` into `work` with a training cache of its own."""
    env = environment()
    env["RASA_CACHE_DIRECTORY"] = str(work / "cache")  # a stale cache entry can never leak in
    command = ["rasa", "train", "--data", str(data_dir), "--config", "config.yml", "--domain", "domain.yml"]
    command += ["--out", str(work), "--fixed-model-name", "candidate"]
    code = _run(command, work / "train.log", env)
    candidate = work / "candidate.tar.gz"
    if code or not candidate.is_file():
        raise _failed("training the candidate", code, work / "train.log")
    return candidate


def score(model: Path, work: Path, name: str) -> Dict[str, dict]:
    """bot.devtools.evaluate's figures for `model` on the blind sets, by set name."""
    out, log = work / f"{name}.json", work / f"{name}.log"
    command = ["bot.devtools.evaluate", "--model", str(model), "--set", str(TEST_SET), "--no-conversations"]
    code = _run([*command, "--json", str(out)], log)
    if code or not out.is_file():
        raise _failed(f"scoring the {name} model", code, log)
    return {entry["name"]: entry for entry in json.loads(out.read_text(encoding="utf-8"))["sets"]}


def failed_stories(model: Path, work: Path) -> List[str]:
    """The test stories the model fails (`rasa test core`, as make test-stories)."""
    command = ["rasa", "test", "core", "--model", str(model), "--stories", str(TEST_STORIES)]
    command += ["--fail-on-prediction-errors", "--out", str(work / "core")]
    code = _run(command, work / "stories.log")
    report = work / "core" / "failed_test_stories.yml"
    failed = yaml.safe_load(report.read_text(encoding="utf-8")) if report.is_file() else None
    names = [str(story.get("story")) for story in (failed or {}).get("stories") or []]
    if code and not names:
        raise _failed("the test stories", code, work / "stories.log")
    return names


@dataclass(frozen=True)
class Figure:
    """One figure of one set, for both models: (count, of how many)."""

    set_name: str
    label: str
    current: Tuple[int, int]
    candidate: Tuple[int, int]
    higher_is_better: bool

    @property
    def worse(self) -> bool:
        (a, n), (b, m) = self.current, self.candidate
        # Compared as fractions, exactly: b/m < a/n without rounding.
        return b * n < a * m if self.higher_is_better else b * n > a * m


# (the key of evaluate's JSON, the denominator's key, the label, higher is better)
MEASURES = (
    ("right", "lines", "intent accuracy", True),
    ("answered_right", "lines", "answer accuracy", True),
    ("leaked", "off_topic", "leak (a career answer to an off-topic line)", False),
)


def compare(current: Dict[str, dict], candidate: Dict[str, dict]) -> List[Figure]:
    if set(current) != set(candidate):
        raise RetrainError(f"the two models were scored on different sets: {sorted(current)} and {sorted(candidate)}")
    figures = []
    for name, ours in current.items():
        theirs = candidate[name]
        for key, whole, label, higher in MEASURES:
            if ours["traffic"] and key != "leaked" or not ours[whole]:
                continue  # the off-topic split is all off-topic: its leak is its figure
            figures.append(Figure(name, label, (ours[key], ours[whole]), (theirs[key], theirs[whole]), higher))
    return figures


def _cell(count: Tuple[int, int]) -> str:
    part, whole = count
    return f"{part / whole:6.1%} ({part}/{whole})"


def render(figures: Sequence[Figure]) -> str:
    lines = [f"{'':50} {'current':>20} {'candidate':>20}"]
    for name in dict.fromkeys(f.set_name for f in figures):
        lines.append(name)
        for f in (f for f in figures if f.set_name == name):
            mark = "  WORSE" if f.worse else ""
            lines.append(f"  {f.label:48} {_cell(f.current):>20} {_cell(f.candidate):>20}{mark}")
    return "\n".join(lines)


def previous_path(model: Path) -> Path:
    stem = model.name[: -len(".tar.gz")] if model.name.endswith(".tar.gz") else model.stem
    return model.with_name(f"{stem}.previous.tar.gz")


def install(candidate: Path, model: Path) -> Path:
    """The candidate in place of `model`, the model kept as its previous one; returns that path."""
    previous = previous_path(model)
    # Both copied next to their target first: os.replace is atomic only within one file system.
    for source, target in ((model, previous), (candidate, model)):
        staged = target.with_name(f".{target.name}.staged")
        shutil.copyfile(source, staged)
        os.replace(staged, target)
    return previous


def retrain(data_dir: Path, model: Path, trained: Optional[Path] = None) -> int:
    """Trains a candidate (or takes `trained`), and puts it in place of `model` if no blind figure gets worse."""
    lines = reviewed_by_file(data_dir)
    refused = near_copies(lines)
    if refused:
        raise RetrainError("refused, nothing trained:\n  " + "\n  ".join(refused))
    if not lines and trained is None:
        files = " and ".join(str(data_dir / f) for f in REVIEWED_FILES)
        print(f"nothing reviewed: {files} hold no line; nothing trained, the model is unchanged")
        return 0
    if not model.is_file():
        raise RetrainError(f"no current model at {model} to compare with: train one first (make train)")
    if trained is not None and not trained.is_file():
        raise RetrainError(f"no candidate model at {trained}")
    with tempfile.TemporaryDirectory(prefix="careerbot-review-train-") as folder:
        work = Path(folder)
        if trained is None:
            print(f"{len(lines)} reviewed lines; training a candidate (a few minutes) ...", flush=True)
        candidate = trained or train(data_dir, work)
        print("scoring the current model and the candidate on the blind sets ...", flush=True)
        figures = compare(score(model, work, "current"), score(candidate, work, "candidate"))
        failed = failed_stories(candidate, work)
        print(render(figures))
        print(f"test stories ({_shown(TEST_STORIES)}) with the candidate: {'FAILED: ' if failed else 'passed'}", end="")
        print(", ".join(failed))
        worse = [f"{f.set_name}: {f.label}" for f in figures if f.worse]
        if worse or failed:
            reasons = (["worse: " + "; ".join(worse)] if worse else []) + (["failing test stories"] if failed else [])
            print(f"refused ({', and '.join(reasons)}); {model} is unchanged", file=sys.stderr)
            return 1
        previous = install(candidate, model)
    print(f"accepted: {model} is the new model (the previous one is kept as {previous}).")
    print("Restart the bot to load it (stop `make run`, start it again); to go back, move the previous one back.")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the training data, with the reviewed lines")
    parser.add_argument("--model", type=Path, help="the current model (default: models/careerbot.tar.gz)")
    parser.add_argument(
        "--candidate",
        type=Path,
        help="a model already trained (with the reviewed lines, elsewhere): compared and installed, not trained",
    )
    args = parser.parse_args(argv)
    try:
        model = args.model or Settings.from_env().models_dir / "careerbot.tar.gz"
        if not args.data.is_dir():
            raise RetrainError(f"no data folder at {args.data}")
        return retrain(args.data.resolve(), model.resolve(), args.candidate.resolve() if args.candidate else None)
    except (RetrainError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
