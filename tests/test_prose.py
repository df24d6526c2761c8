"""Numbers and lists in the prose are the code's: each one a reader may rely on is checked here.

A number that changes with the data or the tuning (accuracy, leak) is quoted with
the command that prints it (`python -m bot.devtools.evaluate`) and not checked here; a
number or list that the code defines (a limit, a timeout, the intents, the size
of a data set) is checked against the code, so that changing one without the
other fails `make test`.
"""

from __future__ import annotations

import re
from typing import Any, Callable, List, Tuple

import pytest
import yaml

from bot import PROJECT_DIR
from bot.channels import health, rest, validation
from bot.launch import serve
from bot.ops import privacy, store
from bot.rasa import rendering
from bot.settings import Settings, SettingsError

README = PROJECT_DIR / "README.md"
CONFIG = PROJECT_DIR / "config.yml"
INTENTS_DOC = PROJECT_DIR / "docs" / "intents.md"


def number(text: str) -> float:
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    return float(words.get(text.lower(), None) or text.replace(",", ""))


def quoted(path: Any, pattern: str) -> List[float]:
    """Every number the pattern's groups capture in the file (white space in the pattern matches line breaks)."""
    text = path.read_text(encoding="utf-8")
    match = re.search(pattern.replace(" ", r"\s+"), text)
    assert match, f"{path.name}: no text matches {pattern!r}; reword the check with the prose"
    return [number(group) for group in match.groups()]


def _test_set_sizes() -> List[float]:
    from bot.devtools.evaluate import DEV_SET, DEV_SET_2, TEST_SET, load_test_set

    return [len(load_test_set(TEST_SET)), len(load_test_set(DEV_SET)), len(load_test_set(DEV_SET_2))]


def _gates() -> List[float]:
    from tests.nlu import test_accuracy

    return [
        test_accuracy.REQUIRED_ANSWER_ACCURACY * 100,
        test_accuracy.REQUIRED_ACCURACY * 100,
        test_accuracy.MAXIMUM_LEAK * 100,
        test_accuracy.MAXIMUM_CLARIFICATION * 100,
    ]


def _conversation_gates() -> List[float]:
    from tests.nlu import test_conversations

    return [test_conversations.REQUIRED_FOLLOWUP_ACCURACY * 100, test_conversations.MAXIMUM_LEAK_IN_CONVERSATION * 100]


def _misspelled_gate() -> List[float]:
    from tests.nlu import test_accuracy

    return [test_accuracy.REQUIRED_MISSPELLED_ANSWER_ACCURACY * 100]


def _nlu_numbers() -> List[float]:
    from bot.rasa.nlu_data import NEAR_DUPLICATE

    return [NEAR_DUPLICATE]


def _conversation_set_sizes() -> List[float]:
    from bot.devtools import conversations

    test = conversations.load_conversations(conversations.TEST_SET)
    dev = conversations.load_conversations(conversations.DEV_SET)
    dev_2 = conversations.load_conversations(conversations.DEV_SET_2)
    return [
        len(test),
        sum(len(c.turns) - 1 for c in test),
        len(dev),
        len(dev_2),
        sum(len(c.turns) - 1 for c in dev_2),
        conversations.DETOURS,
    ]


# (the file that holds the sentence, its pattern, what it quotes, the code's values)
CHECKS: List[Tuple[str, str, str, Callable[[], List[float]]]] = [
    (
        "docs/understanding.md",
        r"`tests/conversations/test_set.yml` holds (\d+) conversations \((\d+) follow-up turns\).*?"
        r"`dev_set.yml` \((\d+) conversations\) and `dev_set_2.yml` \((\d+) conversations, (\d+) follow-up turns"
        r".*?the leak of (\d+) off-topic queries",
        "the sizes of the conversation sets",
        _conversation_set_sizes,
    ),
    (
        "docs/understanding.md",
        r"`make test` gates both \(follow-up turns ≥ ([\d.]+) %, leak mid-conversation ≤ ([\d.]+) %;",
        "the conversation gates of make test",
        _conversation_gates,
    ),
    (
        "docs/conversations.md",
        r"longer than (\d+) characters \| 400",
        "the conversation id limit",
        lambda: [validation.MAX_ID_LENGTH],
    ),
    (
        "docs/conversations.md",
        r"nested more than (\d+) levels deep",
        "the JSON depth limit",
        lambda: [rest.MAX_JSON_DEPTH],
    ),
    (
        "docs/conversations.md",
        r"a message over \*\*([\d,]+) characters\*\*",
        "the message length limit",
        lambda: [validation.MAX_MESSAGE_LENGTH],
    ),
    (
        "docs/conversations.md",
        r"\(default ([\d,]+) bytes;",
        "the body size limit",
        lambda: [Settings.from_env({}).max_body_bytes],
    ),
    (
        "docs/channels.md",
        r"at most (\d+), titles of at most (\d+) characters; over (\d+) characters",
        "Messenger's limits",
        lambda: [rendering.FACEBOOK_MAX_BUTTONS, rendering.FACEBOOK_MAX_TITLE, rendering.FACEBOOK_MAX_BUTTON_TEXT],
    ),
    (
        "docs/operations.md",
        r"is started again after (\d+) s, then 2, 4, 8 … up to (\d+) s",
        "the restart backoff",
        lambda: [serve.BACKOFF_START_S, serve.BACKOFF_MAX_S],
    ),
    (
        "docs/operations.md",
        r"(\w+) deaths of one server within (\d+) s",
        "the crash limit",
        lambda: [serve.CRASH_LIMIT, serve.CRASH_WINDOW_S],
    ),
    (
        "docs/operations.md",
        r"answers its `/health` within (\d+) s, (?:and )?a read through the conversation store succeeds within (\d+) s",
        "the readiness timeouts",
        lambda: [health.CHECK_TIMEOUT_S, health.CHECK_TIMEOUT_S],
    ),
    (
        "docs/operations.md",
        r"\| `CAREERBOT_ACTION_TIMEOUT` \| `(\d+)` \|",
        "the action timeout",
        lambda: [Settings.from_env({}).action_timeout_s],
    ),
    (
        "docs/operations.md",
        r"\| `CAREERBOT_STORE_TIMEOUT` \| `(\d+)` \|",
        "the store timeout",
        lambda: [Settings.from_env({}).store_timeout_s],
    ),
    (
        "docs/operations.md",
        r"\| `CAREERBOT_PROBE_INTERVAL` / `_TIMEOUT` / `_FAILURES` \| "
        r"`(\d+)` / `(\d+)` / `(\d+)` \| .*? every (\d+) s, "
        r"with a (\d+) s timeout, and restarts one that fails (\d+) probes",
        "the supervisor's health probes",
        lambda: (
            [
                Settings.from_env({}).probe_interval_s,
                Settings.from_env({}).probe_timeout_s,
                Settings.from_env({}).probe_failures,
            ]
            * 2
        ),
    ),
    (
        "docs/understanding.md",
        r"`tests/nlu/test_set.yml`: ([\d,]+) everyday questions.*?`tests/nlu/dev_set.yml`: ([\d,]+) more"
        r".*?`tests/nlu/dev_set_2.yml`: ([\d,]+) more",
        "the sizes of the test and dev sets",
        _test_set_sizes,
    ),
    (
        "docs/understanding.md",
        r"messages\)\. A test fails if any of its lines is ([\d.]+) or more similar",
        "the near-duplicate rule",
        _nlu_numbers,
    ),
    (
        "docs/handoff-and-report.md",
        r"does not answer after (\d+) s \(`connect_timeout`\), on a statement after (\d+) s \(`statement_timeout`\) "
        r"and on a lock another session holds after (\d+) s",
        "the ops commands' database timeouts",
        lambda: [store.CONNECT_TIMEOUT_S, store.STATEMENT_TIMEOUT_S, store.LOCK_TIMEOUT_S],
    ),
    (
        "docs/privacy.md",
        r"retried for `--wal-wait` seconds \((\d+) by default",
        "purge and forget's wait for the WAL",
        lambda: [privacy.WAL_WAIT_S],
    ),
    (
        "docs/understanding.md",
        r"\(answer accuracy ≥ ([\d.]+) %, intent accuracy ≥ ([\d.]+) %, "
        r"leak ≤ ([\d.]+) %, clarification ≤ ([\d.]+) %\)",
        "the gates of make test",
        _gates,
    ),
    (
        "docs/understanding.md",
        r"gates the misspelled test set's answer accuracy \(≥ ([\d.]+) %\)",
        "the misspelled set's gate",
        _misspelled_gate,
    ),
]


@pytest.mark.parametrize("where, pattern, what, code", CHECKS, ids=[what for _, _, what, _ in CHECKS])
def test_the_prose_quotes_the_code(where, pattern, what, code):
    text = (PROJECT_DIR / where).read_text(encoding="utf-8")
    match = re.search(pattern.replace(" ", r"\s+"), text, re.DOTALL)
    assert match, f"{where}: no text matches {pattern!r} ({what}); reword the check with the prose"
    assert [number(g) for g in match.groups()] == pytest.approx([float(v) for v in code()]), what


DOCS = ["README.md", *sorted(f"docs/{p.name}" for p in (PROJECT_DIR / "docs").glob("*.md"))]


@pytest.mark.parametrize("where", DOCS)
def test_token_lengths_quoted_are_the_ones_refused(where):
    """'16 characters or more' for CAREERBOT_REST_TOKEN, CAREERBOT_RASA_API_TOKEN and the session secret."""
    quotes = {int(n) for n in re.findall(r"(\d+) characters or more", (PROJECT_DIR / where).read_text())}
    for length in quotes:
        with pytest.raises(SettingsError):
            Settings.from_env({"CAREERBOT_REST_TOKEN": "x" * (length - 1)})
        assert Settings.from_env({"CAREERBOT_REST_TOKEN": "x" * length}).rest_token


def test_docs_intents_lists_exactly_the_intents_of_the_domain():
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    sections = re.split(r"^## ", INTENTS_DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    tables = "".join(s for s in sections if not s.startswith("Entities"))
    listed = set(re.findall(r"^\| `(\w+)` \|", tables, re.MULTILINE))
    assert listed == intents


def test_config_comment_quotes_the_off_topic_sample_size():
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    importer = next(i for i in config["importers"] if i["name"].endswith("OfftopicImporter"))
    assert quoted(CONFIG, r"as out_of_scope examples: (\d+) lines of each source intent") == [importer["per_intent"]]


def layout_paths() -> List[str]:
    """The paths the README's Layout block names, one a line, nested by indentation."""
    text = README.read_text(encoding="utf-8").split("## Layout", 1)[1]
    block = text.split("```text\n", 1)[1].split("```", 1)[0]
    paths, parents = [], []  # parents: (indent, path) of the enclosing folders
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        name = line.split()[0]
        while parents and parents[-1][0] >= indent:
            parents.pop()
        path = (parents[-1][1] if parents else "") + name
        paths.append(path)
        if name.endswith("/"):
            parents.append((indent, path))
    return paths


def test_every_path_of_the_readme_layout_exists():
    assert [p for p in layout_paths() if not (PROJECT_DIR / p).exists()] == []


def test_the_readme_layout_names_every_module_and_package_of_bot():
    named = set(layout_paths())
    in_tree = set()
    for path in (PROJECT_DIR / "bot").iterdir():
        if path.suffix == ".py" or (path.is_dir() and not path.name.startswith((".", "__"))):
            in_tree.add(f"bot/{path.name}" + ("/" if path.is_dir() else ""))
    for package in ("channels", "rasa", "launch", "ops", "devtools"):
        for module in (PROJECT_DIR / "bot" / package).glob("*.py"):
            if module.name != "__init__.py":
                in_tree.add(f"bot/{package}/{module.name}")
    assert in_tree - named == set()
