"""Writes the numbers of README.md and docs/ from their sources: `make docs-numbers`.

A number sits in the Markdown between two HTML comments, which the rendered page does not show:

    <!-- n:settings.action_timeout -->`5`<!-- /n -->

(backticks or asterisks right inside the comments stay as they are). The key names the source:

- a number the code or the data defines (a limit, a timeout, a gate of the tests, the size of a
  data set) is computed here, from them, at every run (`SOURCES`);
- a measured number (accuracy, leak, speed, the time of `make check`) is copied from
  docs/numbers.yml, the record the measuring commands write: `python -m bot.devtools.evaluate
  --record`, `python -m bot.devtools.bench --record`, `python -m bot.devtools.docs_numbers
  --time-check`. Its key is `<run>.<figure>`; each run in the record names its command and day.

    python -m bot.devtools.docs_numbers           # rewrite every span from its source
    python -m bot.devtools.docs_numbers --check   # write nothing; name every stale or unknown span (exit 1)
"""

from __future__ import annotations

import argparse
import ast
import datetime
import functools
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import yaml

from bot import PROJECT_DIR

RECORD = PROJECT_DIR / "docs" / "numbers.yml"
# The markers are Markdown, not prose: a key, then the number, then the close.
SPAN = re.compile(r"<!-- n:(?P<key>[\w.-]+) -->(?P<text>(?:(?!<!--).)*?)<!-- /n -->", re.DOTALL)
# What may wrap the number inside the span and is kept: a code span, bold.
DECORATION = "`*"
RECORD_HEADER = """\
# The measured numbers that README.md and docs/ quote, as the commands that measure them
# last wrote them (each run: its command and day). `make docs-numbers` copies them into the
# docs; python -m bot.devtools.docs_numbers explains the keys. Never edit a value by hand:
# run the command.
"""


class NumbersError(ValueError):
    """A broken record or source, named with the file and the field."""


def docs(root: Path = PROJECT_DIR) -> List[Path]:
    """The files whose spans are written: the README and every page of docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


# Sources the code and data define --------------------------------------------------------------


def plain(value: float) -> str:
    """A number as the docs write it: 2,000 and 30 rather than 2000 and 30.0; 0.85 and 1.1 as they are."""
    number = round(float(value), 6)
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:g}"


def percent(fraction: float) -> str:
    return plain(fraction * 100)


SPELLED = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def spelled(value: int) -> str:
    """Small counts at the start of a sentence: Five, not 5."""
    return SPELLED[value].capitalize() if 0 <= value < len(SPELLED) else plain(value)


def constant(path: str, name: str) -> Any:
    """A module-level literal of a file, read without importing it.

    The developers' tools may not import the channels or the operators' commands
    (docs/architecture.md), and the tests' gates live in test files.
    """
    source = PROJECT_DIR / path
    for node in ast.parse(source.read_text(encoding="utf-8"), filename=str(source)).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            try:
                return ast.literal_eval(value)
            except ValueError:
                raise NumbersError(f"{path}: {name} is not a literal number") from None
    raise NumbersError(f"{path}: no module-level {name}")


def shortest_token(name: str, extra: Optional[Mapping[str, str]] = None) -> int:
    """The shortest value of a token setting that the settings accept, found by trying them."""
    from bot.settings import HandoffDelivery, Settings, SettingsError

    load = HandoffDelivery.from_env if name.startswith("CAREERBOT_HANDOFF_") else Settings.from_env
    for length in range(1, 257):
        try:
            load({**(extra or {}), name: "x" * length})
        except SettingsError:
            continue
        return length
    raise NumbersError(f"bot/settings.py: {name} accepts no value of up to 256 characters")


def _settings(field: str) -> Callable[[], str]:
    def read() -> str:
        from bot.settings import Settings

        return plain(getattr(Settings.from_env({}), field))

    return read


@functools.lru_cache(maxsize=None)
def _nlu_set(name: str) -> List[Any]:
    from bot.rasa.nlu_data import load_test_set

    return load_test_set(PROJECT_DIR / "tests" / "nlu" / name)


def _set_lines(name: str, intent: Optional[str] = None) -> Callable[[], str]:
    """The lines of an NLU set, or those of one intent."""
    return lambda: plain(sum(intent in (None, expected) for _, expected in _nlu_set(name)))


def _fewest_per_intent(name: str) -> str:
    counts: Dict[str, int] = {}
    for _, intent in _nlu_set(name):
        counts[intent] = counts.get(intent, 0) + 1
    return plain(min(counts.values()))


@functools.lru_cache(maxsize=None)
def _conversation_set(name: str) -> List[Any]:
    from bot.devtools import conversations

    return conversations.load_conversations(PROJECT_DIR / "tests" / "conversations" / name)


def _conversations(name: str, followups: bool = False) -> Callable[[], str]:
    def count() -> str:
        loaded = _conversation_set(name)
        return plain(sum(len(c.turns) - 1 for c in loaded) if followups else len(loaded))

    return count


def _offtopic_dev_lines() -> str:
    from bot.rasa import offtopic

    return plain(len(offtopic.default_split().dev))


def _offtopic_dev_fraction() -> str:
    from bot.rasa import offtopic

    return percent(offtopic.DEV_FRACTION)


def _near_duplicate() -> str:
    from bot.similarity import NEAR_DUPLICATE

    return plain(NEAR_DUPLICATE)


def _serve(name: str, show: Callable[[Any], str] = plain) -> Callable[[], str]:
    def read() -> str:
        from bot.launch import serve

        return show(getattr(serve, name))

    return read


def _rendering(name: str) -> Callable[[], str]:
    def read() -> str:
        from bot.rasa import rendering

        return plain(getattr(rendering, name))

    return read


def _constant(path: str, name: str, show: Callable[[Any], str] = plain) -> Callable[[], str]:
    return lambda: show(constant(path, name))


def _careers() -> int:
    return len(list((PROJECT_DIR / "bot" / "content" / "knowledge").glob("*.yml")))


def _scale(name: str) -> Callable[[], str]:
    """make bench's many-careers comparison: the careers it adds, all of them, its limit."""
    shown: Dict[str, Callable[[], str]] = {
        "careers": lambda: plain(constant("bot/devtools/bench.py", "SCALE_CAREERS")),
        "all_careers": lambda: plain(constant("bot/devtools/bench.py", "SCALE_CAREERS") + _careers()),
        "limit": _constant("bot/devtools/bench_careers.py", "LIMIT"),
    }
    return shown[name]


def _detours() -> str:
    from bot.devtools import conversations

    return plain(conversations.DETOURS)


ACCURACY_TEST = "tests/nlu/test_accuracy.py"
CONVERSATION_TEST = "tests/nlu/test_conversations.py"

# Every key the code and data answer, and how.
SOURCES: Dict[str, Callable[[], str]] = {
    # docs/conversations.md, docs/widget.md: what the REST webhook and socket.io refuse
    "limits.conversation_id": _constant("bot/channels/validation.py", "MAX_ID_LENGTH"),
    "limits.json_depth": _constant("bot/channels/validation.py", "MAX_JSON_DEPTH"),
    "limits.message_length": _constant("bot/channels/validation.py", "MAX_MESSAGE_LENGTH"),
    "settings.max_body_bytes": _settings("max_body_bytes"),
    "settings.token_min_length": lambda: plain(shortest_token("CAREERBOT_REST_TOKEN")),
    "settings.rasa_api_token_min_length": lambda: plain(shortest_token("CAREERBOT_RASA_API_TOKEN")),
    "settings.webhook_secret_min_length": lambda: plain(
        shortest_token(
            "CAREERBOT_HANDOFF_WEBHOOK_SECRET", {"CAREERBOT_HANDOFF_WEBHOOK_URL": "https://receiver.example/handoff"}
        )
    ),
    # docs/channels.md
    "rendering.facebook_buttons": _rendering("FACEBOOK_MAX_BUTTONS"),
    "rendering.facebook_title": _rendering("FACEBOOK_MAX_TITLE"),
    "rendering.facebook_text": _rendering("FACEBOOK_MAX_BUTTON_TEXT"),
    # docs/operations.md
    "serve.backoff_start": _serve("BACKOFF_START_S"),
    "serve.backoff_max": _serve("BACKOFF_MAX_S"),
    "serve.crash_limit": _serve("CRASH_LIMIT", spelled),
    "serve.crash_window": _serve("CRASH_WINDOW_S"),
    "health.check_timeout": _constant("bot/channels/health.py", "CHECK_TIMEOUT_S"),
    "settings.action_timeout": _settings("action_timeout_s"),
    "settings.store_timeout": _settings("store_timeout_s"),
    "settings.probe_interval": _settings("probe_interval_s"),
    "settings.probe_timeout": _settings("probe_timeout_s"),
    "settings.probe_failures": _settings("probe_failures"),
    # docs/benchmarks.md, docs/operations.md: the careers and make bench's scale comparison
    "knowledge.careers": lambda: plain(_careers()),
    "scale.careers": _scale("careers"),
    "scale.all_careers": _scale("all_careers"),
    "scale.limit": _scale("limit"),
    # docs/handoff-and-report.md, docs/privacy.md
    "store.connect_timeout": _constant("bot/ops/store.py", "CONNECT_TIMEOUT_S"),
    "store.statement_timeout": _constant("bot/ops/store.py", "STATEMENT_TIMEOUT_S"),
    "store.lock_timeout": _constant("bot/ops/store.py", "LOCK_TIMEOUT_S"),
    "privacy.wal_wait": _constant("bot/ops/privacy.py", "WAL_WAIT_S"),
    # docs/understanding.md, docs/benchmarks.md: the sets and the gates of make test
    "nlu.test_set": _set_lines("test_set.yml"),
    "nlu.test_set_out_of_scope": _set_lines("test_set.yml", "out_of_scope"),
    "nlu.test_set_fewest_per_intent": lambda: _fewest_per_intent("test_set.yml"),
    "nlu.dev_set": _set_lines("dev_set.yml"),
    "nlu.dev_set_2": _set_lines("dev_set_2.yml"),
    "nlu.near_duplicate": _near_duplicate,
    "offtopic.dev_lines": _offtopic_dev_lines,
    "offtopic.dev_fraction": _offtopic_dev_fraction,
    "conversations.test_set": _conversations("test_set.yml"),
    "conversations.test_set_followups": _conversations("test_set.yml", followups=True),
    "conversations.dev_set": _conversations("dev_set.yml"),
    "conversations.dev_set_2": _conversations("dev_set_2.yml"),
    "conversations.dev_set_2_followups": _conversations("dev_set_2.yml", followups=True),
    "conversations.detours": _detours,
    "gates.answer_accuracy": _constant(ACCURACY_TEST, "REQUIRED_ANSWER_ACCURACY", percent),
    "gates.intent_accuracy": _constant(ACCURACY_TEST, "REQUIRED_ACCURACY", percent),
    "gates.leak": _constant(ACCURACY_TEST, "MAXIMUM_LEAK", percent),
    "gates.clarification": _constant(ACCURACY_TEST, "MAXIMUM_CLARIFICATION", percent),
    "gates.misspelled_answer_accuracy": _constant(ACCURACY_TEST, "REQUIRED_MISSPELLED_ANSWER_ACCURACY", percent),
    "gates.followup_accuracy": _constant(CONVERSATION_TEST, "REQUIRED_FOLLOWUP_ACCURACY", percent),
    "gates.leak_in_conversation": _constant(CONVERSATION_TEST, "MAXIMUM_LEAK_IN_CONVERSATION", percent),
}


# The record of measured numbers ----------------------------------------------------------------


def load_record(path: Optional[Path] = None) -> Dict[str, Dict[str, Any]]:
    """The record's runs, checked: each names its command, its day and its values (text)."""
    path = path or RECORD
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise NumbersError(f"{path.name}: expected a mapping of runs, got {type(data).__name__}")
    for run, entry in data.items():
        if not isinstance(entry, dict):
            raise NumbersError(f"{path.name}: {run}: expected a mapping with command, measured and values")
        for field, kind in (("command", str), ("measured", str), ("values", dict)):
            if not isinstance(entry.get(field), kind):
                raise NumbersError(f"{path.name}: {run}.{field}: expected {kind.__name__}, got {entry.get(field)!r}")
        try:
            datetime.date.fromisoformat(entry["measured"])
        except ValueError:
            raise NumbersError(
                f"{path.name}: {run}.measured: expected a day, YYYY-MM-DD, got {entry['measured']!r}"
            ) from None
        for name, value in entry["values"].items():
            if not isinstance(value, str):
                raise NumbersError(
                    f"{path.name}: {run}.values.{name}: expected text as the docs show it, got {value!r}"
                )
    return data


def record(run: str, command: str, values: Mapping[str, str], path: Optional[Path] = None, note: str = "") -> None:
    """Replaces one run's figures in the record, with the command that measured them and today's date."""
    data = load_record(path)
    entry: Dict[str, Any] = {"command": command, "measured": datetime.date.today().isoformat()}
    if note:
        entry["note"] = note
    entry["values"] = {name: str(value) for name, value in values.items()}
    data[run] = entry
    write_record(data, path)


class _RecordDumper(yaml.SafeDumper):
    """Text of several lines (a table) as a literal block, readable in a diff."""


_RecordDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def write_record(data: Mapping[str, Any], path: Optional[Path] = None) -> None:
    path = path or RECORD
    body = yaml.dump(dict(data), Dumper=_RecordDumper, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(RECORD_HEADER + body, encoding="utf-8")


def recorded(data: Mapping[str, Mapping[str, Any]]) -> Dict[str, str]:
    """Every measured number by its key, `<run>.<figure>`."""
    return {f"{run}.{name}": value for run, entry in data.items() for name, value in entry["values"].items()}


def sources(record_path: Optional[Path] = None) -> Dict[str, Callable[[], str]]:
    """Every key a span may name, with what gives its text."""
    record_path = record_path or RECORD
    found: Dict[str, Callable[[], str]] = dict(SOURCES)
    for key, value in recorded(load_record(record_path)).items():
        if key in found:
            raise NumbersError(f"{record_path.name}: {key} is a number the code defines; record it there, not here")
        found[key] = functools.partial(str, value)
    return found


# The spans --------------------------------------------------------------------------------------


@dataclass
class Stale:
    path: Path
    line: int
    key: str
    written: str
    expected: Optional[str]  # None: no source has this key

    def __str__(self) -> str:
        where = f"{_shown(self.path)}:{self.line}"
        if self.expected is None:
            return f"{where}: {self.key}: no such number (neither the code's nor docs/numbers.yml's)"
        return f"{where}: {self.key}: the docs say {self.written!r}, it is {self.expected!r}"


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR)) if PROJECT_DIR in path.parents else str(path)


def _split(text: str) -> "tuple[str, str, str]":
    """(what comes before the number, the number, what comes after): the decoration kept around it."""
    inner = text.strip(DECORATION)
    start = text.find(inner) if inner else len(text.rstrip(DECORATION))
    return text[:start], inner, text[start + len(inner) :]


def _as_span(value: str) -> str:
    """A value of several lines stands on lines of its own between the markers."""
    return f"\n{value}\n" if "\n" in value else value


def rewrite(
    text: str, values: Mapping[str, Callable[[], str]], path: Path, cache: Optional[Dict[str, str]] = None
) -> "tuple[str, List[Stale], List[str]]":
    """The text with every span written from its source, what was stale, and the keys used.

    `cache` keeps each source's text from one file to the next: some load a data set.
    """
    stale: List[Stale] = []
    used: List[str] = []
    cache = {} if cache is None else cache

    def one(match: "re.Match[str]") -> str:
        key, written = match.group("key"), match.group("text")
        used.append(key)
        line = text.count("\n", 0, match.start()) + 1
        if key not in values:
            stale.append(Stale(path, line, key, written, None))
            return match.group(0)
        if key not in cache:
            cache[key] = values[key]()
        if "\n" in cache[key]:
            before, number, after = "", written, ""
            expected = _as_span(cache[key])
        else:
            before, number, after = _split(written)
            expected = cache[key]
        if number != expected:
            stale.append(Stale(path, line, key, number, expected))
        return f"<!-- n:{key} -->{before}{expected}{after}<!-- /n -->"

    return SPAN.sub(one, text), stale, used


def run(paths: Sequence[Path], check: bool, record_path: Optional[Path] = None) -> "tuple[List[Stale], List[str]]":
    """Every stale or unknown span of the files (rewritten unless `check`), and every key they use."""
    values = sources(record_path)
    stale: List[Stale] = []
    used: List[str] = []
    changed: Dict[Path, str] = {}
    cache: Dict[str, str] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new, found, keys = rewrite(text, values, path, cache)
        stale += found
        used += keys
        if new != text:
            changed[path] = new
    # A span with an unknown key is a typo to fix first: nothing is written.
    if not check and not any(s.expected is None for s in stale):
        for path, new in changed.items():
            path.write_text(new, encoding="utf-8")
    return stale, used


# make check, timed ------------------------------------------------------------------------------

# pytest's last line, e.g. "728 passed, 2 skipped in 80.12s (0:01:20)": not prose, its own format.
PYTEST_SUMMARY = re.compile(r"(\d+) passed")


def minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


def tier_tests(output: str) -> Optional[int]:
    """The tests `make check` passed: its tier's run (the command make echoes, with `-n 2`) and the serial
    runs after it, each a summary of its own. The lint step's run before them (tests/test_architecture.py)
    is part of the tier's run too, so it is not counted again."""
    _, echoed, after = output.partition(" -n 2 ")
    passed = [int(n) for n in PYTEST_SUMMARY.findall(after)] if echoed else []
    return sum(passed) if passed else None


def time_check() -> int:
    """Runs `make check`, times it, and records the time and the number of tests that passed."""
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    done = subprocess.run(["make", "check"], cwd=PROJECT_DIR, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    # The machine's other work slows it: the record says how busy it was.
    busy = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores"
    sys.stdout.write(done.stdout[-2000:])
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        print(f"error: make check failed (exit {done.returncode}); nothing recorded", file=sys.stderr)
        return 1
    tests = tier_tests(done.stdout)
    if tests is None:
        print("error: make check printed no pytest summary; nothing recorded", file=sys.stderr)
        return 1
    record(
        "check",
        "python -m bot.devtools.docs_numbers --time-check (time make check)",
        {
            "time": minutes(elapsed),
            "tests": plain(tests),
        },
        note=busy,
    )
    print(f"make check: {minutes(elapsed)}, {tests} tests passed ({busy}); recorded in {_shown(RECORD)}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every stale span")
    parser.add_argument(
        "--time-check", action="store_true", help="first run and time `make check`, and record it (about 2 min)"
    )
    parser.add_argument("files", nargs="*", type=Path, help="default: README.md and docs/*.md")
    args = parser.parse_args(argv)
    if args.time_check and time_check() != 0:
        return 1
    try:
        stale, _ = run(args.files or docs(), check=args.check)
    except NumbersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    unknown = [s for s in stale if s.expected is None]
    for s in stale:
        print(s, file=sys.stderr if args.check or s.expected is None else sys.stdout)
    if unknown:
        print(f"error: {len(unknown)} span(s) name no known number; nothing written", file=sys.stderr)
        return 1
    if args.check:
        return 1 if stale else 0
    print(f"{len(stale)} number(s) rewritten" if stale else "every number is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
