"""The knowledge layer: loads, validates and answers lookups on career knowledge.

One YAML file per career in the knowledge directory; a career's id is its file
name without ``.yml``. Each file is checked against ``knowledge_schema.yml``
and a few rules the schema cannot express; a broken file fails with the file,
the field and what was expected. Actions ask this layer for content and never
read YAML themselves.

Real sources cover different topics, so a topic may be missing (the bot says
the source does not cover it), structured, or plain statements (``facts``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import jsonschema
import yaml

from bot import CONTENT_DIR

SCHEMA_PATH = CONTENT_DIR / "knowledge_schema.yml"

logger = logging.getLogger(__name__)


class KnowledgeError(ValueError):
    """A knowledge file is missing, unreadable or breaks the schema."""

    def __init__(self, file: Path, field: str, expected: str) -> None:
        self.file = Path(file)
        self.field = field
        self.expected = expected
        super().__init__(f"{self.file}: field '{field}': {expected}")


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    kind: str
    reference: Optional[str] = None
    url: Optional[str] = None
    as_of: Optional[str] = None
    cited_in: Optional["Source"] = None
    licence: Optional[str] = None


@dataclass(frozen=True)
class PayLevel:
    id: str
    name: str
    low: int
    high: int
    aliases: tuple


@dataclass(frozen=True)
class PayFigure:
    """One figure of a source that gives pay as a median, a mean or percentiles."""

    measure: str  # p10, p25, median, p75, p90, mean
    amount: float
    per: str  # year, month, hour


@dataclass(frozen=True)
class Related:
    """A career the source names as related; `career_id` links one that has its own file."""

    name: str
    career_id: Optional[str]


# The file name is the career's id: what a page's context and the settings name.
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# The knowledge sections that answer topics: all but the career and its sources.
_NOT_TOPICS = ("career", "sources")


def normalise(text: str) -> str:
    """Lower-case words as the knowledge's name index compares them."""
    return _normalise(text)


def _normalise(text: str) -> str:
    """Lower-case, hyphens as spaces, single spaces, no trailing plural 's'."""
    words = re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("-", " ")).split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def _field_path(parts: Iterable[Any]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(error: jsonschema.ValidationError) -> "tuple[str, str]":
    """Turn a jsonschema error into (field, what was expected)."""
    path = list(error.absolute_path)
    kind, rule, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in rule if name not in (value or {})][0]
        return _field_path(path + [missing]), "missing; expected it to be present"
    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(value) - set(known))[0]
        return _field_path(path + [extra]), f"unknown key; expected one of {', '.join(known)}"
    if kind == "type":
        return _field_path(path), f"expected {rule}, got {type(value).__name__} {value!r}"
    if kind == "enum":
        return _field_path(path), f"expected one of {', '.join(map(str, rule))}, got {value!r}"
    if kind in ("minLength", "minItems", "minProperties"):
        return _field_path(path), f"expected a non-empty value, got {value!r}"
    if kind == "pattern":
        return _field_path(path), f"expected text matching {rule}, got {value!r}"
    if kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        return _field_path(path), f"expected a number {word} {rule}, got {value!r}"
    return _field_path(path), f"expected {kind} {rule!r}, got {value!r}"


_schema_cache: Dict[str, Any] = {}


def _validator() -> jsonschema.Draft7Validator:
    # One validator for every file: building it per file costs more than checking a file.
    if "validator" not in _schema_cache:
        schema = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
        _schema_cache["validator"] = jsonschema.Draft7Validator(schema)
    return _schema_cache["validator"]


# libyaml's loader when PyYAML was built with it: several times faster on a site's many files.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Career:
    """One career's validated knowledge, with lookups the actions need."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.data = data
        self.id: str = path.stem
        self.name: str = data["career"]["name"]
        self.plural: str = data["career"]["plural"]
        self.aliases: List[str] = list(data["career"].get("aliases", []))
        self.related = [Related(r["name"], r.get("career")) for r in data["career"].get("related", [])]
        self.sources = self._build_sources(data["sources"])
        pay = data.get("pay") or {}
        self.pay_levels = [
            PayLevel(lv["id"], lv["name"], lv["low"], lv["high"], tuple(lv["aliases"])) for lv in pay.get("levels", [])
        ]
        self.pay_figures = [PayFigure(f["measure"], f["amount"], f["per"]) for f in pay.get("figures", [])]
        self._check_rules()

    @property
    def names(self) -> List[str]:
        """Every way the knowledge names this career: its name, plural and aliases."""
        return [self.name, self.plural, *self.aliases]

    def _fail(self, field: str, expected: str) -> KnowledgeError:
        return KnowledgeError(self.path, field, expected)

    def _build_sources(self, raw: Mapping[str, Any]) -> Dict[str, Source]:
        built: Dict[str, Source] = {}

        def build(source_id: str, seen: tuple) -> Source:
            if source_id in built:
                return built[source_id]
            if source_id in seen:
                raise self._fail(f"sources.{source_id}.cited_in", "expected no citation cycle")
            entry = raw[source_id]
            parent = entry.get("cited_in")
            if parent is not None and parent not in raw:
                raise self._fail(
                    f"sources.{source_id}.cited_in", f"expected one of {', '.join(sorted(raw))}, got {parent!r}"
                )
            built[source_id] = Source(
                id=source_id,
                name=entry["name"],
                kind=entry["kind"],
                reference=entry.get("reference"),
                url=entry.get("url"),
                as_of=entry.get("as_of"),
                licence=entry.get("licence"),
                cited_in=build(parent, seen + (source_id,)) if parent else None,
            )
            return built[source_id]

        for source_id in raw:
            build(source_id, ())
        return built

    def _check_rules(self) -> None:
        if not _ID.match(self.id):
            raise self._fail("(file name)", f"expected a career id as the name (a-z, 0-9, _), got {self.path.name!r}")
        written = self.data["career"].get("id")
        if written is not None and written != self.id:
            raise self._fail("career.id", f"expected the file name without .yml ({self.id!r}), got {written!r}")
        for field, source_id in self._source_refs():
            if source_id not in self.sources:
                raise self._fail(
                    field, f"expected a source id, one of {', '.join(sorted(self.sources))}; got {source_id!r}"
                )
        seen_ids = set()
        for i, level in enumerate(self.pay_levels):
            if level.low > level.high:
                raise self._fail(f"pay.levels[{i}].low", f"expected at most high ({level.high}), got {level.low}")
            if level.id in seen_ids:
                raise self._fail(f"pay.levels[{i}].id", f"expected a unique id, got {level.id!r} again")
            seen_ids.add(level.id)
        outlook = self.data.get("outlook") or {}
        if "period_start" in outlook and outlook["period_start"] > outlook["period_end"]:
            raise self._fail("outlook.period_start", f"expected a year not after period_end ({outlook['period_end']})")

    def _source_refs(self) -> Iterator[Tuple[str, Any]]:
        for name, section in self.data.items():
            if name in _NOT_TOPICS or not isinstance(section, Mapping):
                continue
            for key, value in section.items():
                if key == "source":
                    yield f"{name}.source", value
                elif isinstance(value, Mapping) and "source" in value:
                    yield f"{name}.{key}.source", value["source"]

    # Lookups ---------------------------------------------------------------

    def section(self, name: str) -> Mapping[str, Any]:
        return self.data[name]

    def covers(self, section: str) -> bool:
        """Whether this career's source says anything on a topic section."""
        return section not in _NOT_TOPICS and section in self.data

    def is_statements(self, section: str) -> bool:
        """Whether a covered section is plain statements (``facts``) rather than the structured form."""
        return "facts" in self.data.get(section, {})

    def statements(self, section: str) -> List[str]:
        return list(self.data[section]["facts"])

    @property
    def sections(self) -> List[str]:
        """The topic sections this career's knowledge covers, in file order."""
        return [name for name in self.data if name not in _NOT_TOPICS]

    def source_of(self, section: str) -> Source:
        return self.sources[self.data[section]["source"]]

    def as_of(self, section: str) -> Optional[str]:
        """When a section's facts were measured: its own date, else its source's, else that of the source citing it."""
        source = self.source_of(section)
        return self.data[section].get("as_of") or source.as_of or (source.cited_in.as_of if source.cited_in else None)

    def pay_level(self, mention: Optional[str]) -> Optional[PayLevel]:
        """The pay level a user's words name ('managers', 'entry-level'), if any."""
        if not mention:
            return None
        wanted = _normalise(mention)
        for level in self.pay_levels:
            names = (level.id, level.name) + level.aliases
            if any(_normalise(n) == wanted for n in names):
                return level
        # "senior specialists", "the new ones": match a known alias word inside.
        words = set(wanted.split())
        for level in self.pay_levels:
            if any(set(_normalise(a).split()) <= words for a in level.aliases):
                return level
        return None

    def degree_field(self, mention: Optional[str]) -> Optional[str]:
        """The accepted field a mention names, as written in the knowledge."""
        if not mention:
            return None
        wanted = _normalise(mention)
        for field in (self.data.get("education") or {}).get("fields", []):
            if _normalise(field) == wanted:
                return field
        return None


def load_career(path: Path) -> Career:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KnowledgeError(path, "(file)", f"expected a readable file ({error.strerror})") from None
    except UnicodeDecodeError:
        raise KnowledgeError(path, "(file)", "expected UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise KnowledgeError(path, where, f"expected valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise KnowledgeError(path, "(top level)", f"expected a mapping, got {type(data).__name__}")
    errors = sorted(_validator().iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        field, expected = _describe(errors[0])
        raise KnowledgeError(path, field, expected)
    return Career(path, data)


class KnowledgeBase:
    """All careers of a knowledge directory, the default one if any, and a name index.

    The index maps every name a career goes by (normalised) to the career, so
    finding the careers a message names costs the same with 3 careers or 300.
    """

    def __init__(self, careers: Mapping[str, Career], default_id: Optional[str]) -> None:
        self.careers = dict(careers)
        self.default_id = default_id
        self._names: Dict[str, str] = {}
        self._longest = 1
        for career_id in sorted(self.careers):
            career = self.careers[career_id]
            for index, name in enumerate(career.names):
                key = _normalise(name)
                owner = self._names.get(key)
                if owner is not None and owner != career_id:
                    field = "career.name" if index == 0 else ("career.plural" if index == 1 else "career.aliases")
                    raise KnowledgeError(
                        career.path, field, f"expected a name no other career uses; {name!r} also names {owner!r}"
                    )
                self._names[key] = career_id
                self._longest = max(self._longest, len(key.split()))

    @classmethod
    def load(cls, directory: Path, default_id: Optional[str] = None) -> "KnowledgeBase":
        directory = Path(directory)
        return cls.from_careers(directory, [load_career(path) for path in career_files(directory)], default_id)

    @classmethod
    def from_careers(cls, directory: Path, loaded: Iterable[Career], default_id: Optional[str]) -> "KnowledgeBase":
        careers: Dict[str, Career] = {}
        for career in loaded:
            if career.id in careers:
                raise KnowledgeError(
                    career.path, "(file name)", f"expected a unique id; {career.id!r} is also {careers[career.id].path}"
                )
            careers[career.id] = career
        if not careers:
            raise KnowledgeError(directory, "(directory)", "expected at least one career file (*.yml)")
        if default_id is None and len(careers) == 1:
            default_id = next(iter(careers))
        if default_id is not None and default_id not in careers:
            raise KnowledgeError(
                directory, "CAREERBOT_CAREER", f"expected one of {', '.join(sorted(careers))}, got {default_id!r}"
            )
        return cls(careers, default_id)

    @property
    def default(self) -> Optional[Career]:
        """The career a conversation is about when nothing else says: None on a site without one."""
        return self.careers[self.default_id] if self.default_id else None

    def career(self, career_id: Optional[str] = None) -> Career:
        career_id = career_id or self.default_id
        if career_id is None:
            raise LookupError("no career named and no default career (CAREERBOT_CAREER)")
        return self.careers[career_id]

    def get(self, career_id: Any) -> Optional[Career]:
        """The career with this id, or None for anything else (an unknown id, a non-string)."""
        return self.careers.get(career_id) if isinstance(career_id, str) else None

    def named_in(self, text: str) -> List[Career]:
        """The careers a text names, in the order it names them, each once."""
        found: List[Career] = []
        for career, _, _ in self.name_spans(_normalise(text).split()):
            if career not in found:
                found.append(career)
        return found

    def name_spans(self, words: List[str]) -> List[Tuple[Career, int, int]]:
        """Where normalised words name a career: (career, first word, end), left to right.

        Longest names win ("mortgage loan officer" over "loan officer"), and
        the words a name used are not matched again.
        """
        spans: List[Tuple[Career, int, int]] = []
        i = 0
        while i < len(words):
            for length in range(min(self._longest, len(words) - i), 0, -1):
                career_id = self._names.get(" ".join(words[i : i + length]))
                if career_id is not None:
                    spans.append((self.careers[career_id], i, i + length))
                    i += length
                    break
            else:
                i += 1
        return spans

    def find(self, name: Optional[str]) -> Optional[Career]:
        """The career a name stands for ("bank tellers", "loan_officers"), or None."""
        if not name:
            return None
        return self.get(name) or next(iter(self.named_in(name)), None)


def career_files(directory: Path) -> List[Path]:
    return sorted(Path(directory).glob("*.yml")) + sorted(Path(directory).glob("*.yaml"))


class LiveKnowledge:
    """The knowledge of a directory, reloaded when an editor changes a file.

    Looks at the files' modification times at most once per `interval`
    seconds. Changed and new files are loaded and validated, unchanged ones
    kept, and the whole is checked again (unique names, the default); if that
    fails, the error (file, field, expectation) is logged and the last good
    knowledge keeps serving. No retraining and no restart is needed: adding,
    changing or removing a career file takes effect on the next check. New
    words for the entity rules (a new level alias, say) need `make train`,
    which rebuilds the spaCy pipeline; career names are matched at answer time.
    """

    def __init__(self, directory: Path, default_id: Optional[str] = None, interval: float = 1.0) -> None:
        self.directory = Path(directory)
        self.default_id = default_id
        self.interval = interval
        self._lock = threading.Lock()
        self._loaded: Dict[Path, Tuple[Tuple[int, int], Career]] = {}
        self._stamp = self._fingerprint()
        self._current = self._load(self._stamp)  # start-up fails loudly
        self._checked = time.monotonic()
        self.last_error: Optional[KnowledgeError] = None

    def _fingerprint(self) -> Tuple[Tuple[Path, int, int], ...]:
        stamp = []
        for path in career_files(self.directory):
            try:
                info = path.stat()
            except OSError:
                continue
            stamp.append((path, info.st_mtime_ns, info.st_size))
        return tuple(stamp)

    def _load(self, stamp: Tuple[Tuple[Path, int, int], ...]) -> KnowledgeBase:
        # Only changed files are parsed again: one edit on a site of hundreds stays quick.
        loaded: Dict[Path, Tuple[Tuple[int, int], Career]] = {}
        for path, mtime, size in stamp:
            kept = self._loaded.get(path)
            loaded[path] = kept if kept and kept[0] == (mtime, size) else ((mtime, size), load_career(path))
        knowledge = KnowledgeBase.from_careers(self.directory, (c for _, c in loaded.values()), self.default_id)
        self._loaded = loaded
        return knowledge

    def get(self) -> KnowledgeBase:
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= self.interval:
                self._checked = now
                stamp = self._fingerprint()
                if stamp != self._stamp:
                    self._stamp = stamp
                    self._reload()
            return self._current

    def _reload(self) -> None:
        try:
            self._current = self._load(self._stamp)
        except KnowledgeError as error:
            self.last_error = error
            logger.error("knowledge edit rejected, still serving the last good knowledge: %s", error)
        else:
            self.last_error = None
            logger.info("knowledge reloaded from %s: %s", self.directory, ", ".join(sorted(self._current.careers)))


_default: Dict[str, LiveKnowledge] = {}
_default_lock = threading.Lock()


def default_knowledge() -> KnowledgeBase:
    """The knowledge the settings name: loaded on first use, then kept up to date with its files."""
    with _default_lock:
        if "live" not in _default:
            from bot.settings import Settings

            settings = Settings.from_env()
            _default["live"] = LiveKnowledge(settings.knowledge_dir, settings.career)
        live = _default["live"]
    return live.get()


# The validation command -----------------------------------------------------


def topic_names() -> List[str]:
    """Every topic section the schema knows, in its order."""
    return [name for name in _validator().schema["properties"] if name not in _NOT_TOPICS]


def main(argv: Optional[List[str]] = None) -> int:
    """Check every career file of a directory; print what each career covers. Exit 1 if any is broken.

    `make check-knowledge` runs it (DIR=... for another directory). The operator
    reads one line per broken file: the file, the field and what was expected.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m bot.knowledge", description="Validate the career files of a knowledge directory."
    )
    parser.add_argument(
        "directory", nargs="?", type=Path, help="the directory to check (default: CAREERBOT_KNOWLEDGE_DIR)"
    )
    parser.add_argument(
        "--career",
        help="the default career to expect there (default: CAREERBOT_CAREER, for the settings' directory only)",
    )
    args = parser.parse_args(argv)
    directory, default_id = args.directory, args.career
    if directory is None:
        from bot.settings import Settings, SettingsError

        try:
            settings = Settings.from_env()
        except SettingsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        directory, default_id = settings.knowledge_dir, default_id or settings.career
    if not directory.is_dir():
        print(f"error: {directory}: expected a directory of career files (*.yml)", file=sys.stderr)
        return 1

    careers: List[Career] = []
    broken = 0
    for path in career_files(directory):
        try:
            careers.append(load_career(path))
        except KnowledgeError as error:
            print(f"error: {error}", file=sys.stderr)
            broken += 1
    knowledge: Optional[KnowledgeBase] = None
    if not broken:
        try:
            knowledge = KnowledgeBase.from_careers(directory, careers, default_id)
        except KnowledgeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    topics = topic_names()
    for career in careers:
        covered = set(career.sections)
        marker = " (default)" if knowledge and career.id == knowledge.default_id else ""
        print(f"{career.id}{marker}: {'; '.join(dict.fromkeys(career.names))}")
        print(f"  covers: {', '.join(t for t in topics if t in covered) or 'nothing'}")
        print(f"  does not cover: {', '.join(t for t in topics if t not in covered) or 'nothing'}")
    if knowledge is None:
        print(f"{broken} broken career file(s) in {directory}", file=sys.stderr)
        return 1
    for career in careers:
        for index, related in enumerate(career.related):
            if related.career_id is not None and related.career_id not in knowledge.careers:
                # Served as a plain name; a warning, since the linked file may simply come later.
                print(
                    f"warning: {career.path}: field 'career.related[{index}].career': expected a career of this "
                    f"directory ({', '.join(sorted(knowledge.careers))}), got {related.career_id!r}"
                )
    default = f", default {knowledge.default_id}" if knowledge.default_id else ", no default career"
    print(f"{len(careers)} career file(s) in {directory} are valid{default}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
