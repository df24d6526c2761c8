"""The knowledge layer: loads, validates and answers lookups on career knowledge.

One YAML file per career in the knowledge directory. Each file is checked
against ``knowledge_schema.yml`` and a few rules the schema cannot express; a
broken file fails with the file, the field and what was expected. Actions ask
this layer for content and never read YAML themselves.
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


@dataclass(frozen=True)
class PayLevel:
    id: str
    name: str
    low: int
    high: int
    aliases: tuple


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


def _schema() -> Dict[str, Any]:
    if "schema" not in _schema_cache:
        _schema_cache["schema"] = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    return _schema_cache["schema"]


class Career:
    """One career's validated knowledge, with lookups the actions need."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.data = data
        self.id: str = data["career"]["id"]
        self.name: str = data["career"]["name"]
        self.plural: str = data["career"]["plural"]
        self.aliases: List[str] = list(data["career"].get("aliases", []))
        self.sources = self._build_sources(data["sources"])
        self.pay_levels = [
            PayLevel(lv["id"], lv["name"], lv["low"], lv["high"], tuple(lv["aliases"])) for lv in data["pay"]["levels"]
        ]
        self._check_rules()

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
                cited_in=build(parent, seen + (source_id,)) if parent else None,
            )
            return built[source_id]

        for source_id in raw:
            build(source_id, ())
        return built

    def _check_rules(self) -> None:
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
        outlook = self.data["outlook"]
        if outlook["period_start"] > outlook["period_end"]:
            raise self._fail("outlook.period_start", f"expected a year not after period_end ({outlook['period_end']})")

    def _source_refs(self) -> Iterator[Tuple[str, Any]]:
        for name, section in self.data.items():
            if name in ("career", "sources") or not isinstance(section, Mapping):
                continue
            for key, value in section.items():
                if key == "source":
                    yield f"{name}.source", value
                elif isinstance(value, Mapping) and "source" in value:
                    yield f"{name}.{key}.source", value["source"]

    # Lookups ---------------------------------------------------------------

    def section(self, name: str) -> Mapping[str, Any]:
        return self.data[name]

    def source_of(self, section: str) -> Source:
        return self.sources[self.data[section]["source"]]

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
        for field in self.data["education"]["fields"]:
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
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise KnowledgeError(path, where, f"expected valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise KnowledgeError(path, "(top level)", f"expected a mapping, got {type(data).__name__}")
    validator = jsonschema.Draft7Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        field, expected = _describe(errors[0])
        raise KnowledgeError(path, field, expected)
    return Career(path, data)


class KnowledgeBase:
    """All careers in a knowledge directory; one of them answers by default."""

    def __init__(self, careers: Mapping[str, Career], default_id: str) -> None:
        self.careers = dict(careers)
        self.default_id = default_id

    @classmethod
    def load(cls, directory: Path, default_id: Optional[str] = None) -> "KnowledgeBase":
        directory = Path(directory)
        files = sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))
        if not files:
            raise KnowledgeError(directory, "(directory)", "expected at least one career file (*.yml)")
        careers: Dict[str, Career] = {}
        for path in files:
            career = load_career(path)
            if career.id in careers:
                raise KnowledgeError(
                    path, "career.id", f"expected a unique id; {career.id!r} is also in {careers[career.id].path}"
                )
            careers[career.id] = career
        if default_id is None:
            if len(careers) > 1:
                raise KnowledgeError(
                    directory,
                    "(directory)",
                    "several careers found; expected CAREERBOT_CAREER to name one of " + ", ".join(sorted(careers)),
                )
            default_id = next(iter(careers))
        if default_id not in careers:
            raise KnowledgeError(
                directory, "CAREERBOT_CAREER", f"expected one of {', '.join(sorted(careers))}, got {default_id!r}"
            )
        return cls(careers, default_id)

    def career(self, career_id: Optional[str] = None) -> Career:
        return self.careers[career_id or self.default_id]


class LiveKnowledge:
    """The knowledge of a directory, reloaded when an editor changes a file.

    Looks at the files' modification times at most once per `interval`
    seconds. A changed directory is loaded and validated in full; if that
    fails, the error (file, field, expectation) is logged and the last good
    knowledge keeps serving. No retraining and no restart is needed for
    content; new words for the entity rules (a new level alias, say) need
    `make train`, which rebuilds the spaCy pipeline.
    """

    def __init__(self, directory: Path, default_id: Optional[str] = None, interval: float = 1.0) -> None:
        self.directory = Path(directory)
        self.default_id = default_id
        self.interval = interval
        self._lock = threading.Lock()
        self._stamp = self._fingerprint()
        self._current = KnowledgeBase.load(self.directory, default_id)  # start-up fails loudly
        self._checked = time.monotonic()
        self.last_error: Optional[KnowledgeError] = None

    def _fingerprint(self) -> tuple:
        files = sorted(self.directory.glob("*.yml")) + sorted(self.directory.glob("*.yaml"))
        stamp = []
        for path in files:
            try:
                info = path.stat()
            except OSError:
                continue
            stamp.append((path.name, info.st_mtime_ns, info.st_size))
        return tuple(stamp)

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
            self._current = KnowledgeBase.load(self.directory, self.default_id)
        except KnowledgeError as error:
            self.last_error = error
            logger.error("knowledge edit rejected, still serving the last good knowledge: %s", error)
        else:
            self.last_error = None
            logger.info("knowledge reloaded from %s", self.directory)


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
