"""Builds the project's own spaCy pipeline: blank English plus entity rules.

No pretrained English pipeline fits Rasa 3.6's spaCy range and none can be
downloaded here, so Rasa's SpacyNLP loads this one by path. Its entity ruler
recognises job levels, US states and fields of study; the patterns come from
the knowledge files and the vocabularies, so a new career's words are picked up
by rebuilding, not by code.

    python -m bot.nlp build/spacy/careerbot_en
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, Iterable, List

import spacy

from bot import vocab
from bot.knowledge import KnowledgeBase, KnowledgeError
from bot.settings import Settings, SettingsError

ENTITY_LABELS = ("job_level", "us_state", "degree_field", "other_career")


def _phrase(nlp, label: str, text: str, plural: bool = True) -> Dict[str, object]:
    """A case-insensitive token pattern; the last word may take a plural 's'."""
    words = [t.text.lower() for t in nlp.make_doc(text)]
    tokens: List[Dict[str, object]] = [{"LOWER": w} for w in words]
    if plural and words[-1].isalpha():
        tokens[-1] = {"LOWER": {"IN": [words[-1], words[-1] + "s", words[-1] + "es"]}}
    return {"label": label, "pattern": tokens}


def entity_patterns(nlp, knowledge: KnowledgeBase) -> List[Dict[str, object]]:
    patterns: List[Dict[str, object]] = []
    for career in knowledge.careers.values():
        for level in career.pay_levels:
            for alias in (level.name,) + level.aliases:
                patterns.append(_phrase(nlp, "job_level", alias))
        for field in career.section("education")["fields"]:
            patterns.append(_phrase(nlp, "degree_field", field, plural=False))
    for field in vocab.degree_fields():
        patterns.append(_phrase(nlp, "degree_field", field, plural=False))
    own_words = " ".join(_career_words(knowledge)).lower()
    for job in vocab.occupations():
        # A job this career's knowledge names itself (a manager, an accounting clerk) is not "other".
        if job.lower() not in own_words:
            patterns.append(_phrase(nlp, "other_career", job))
    for state in vocab.us_states():
        patterns.append(_phrase(nlp, "us_state", str(state["name"]), plural=False))
        code = {"TEXT": state["code"]}
        if state.get("ambiguous"):
            # "OK" and "HI" alone are words; "in OK" is a state.
            patterns.append({"label": "us_state",
                             "pattern": [{"LOWER": {"IN": list(vocab.STATE_PREPOSITIONS)}}, code]})
        else:
            patterns.append({"label": "us_state", "pattern": [code]})
    return _unique(patterns)


def _career_words(knowledge: KnowledgeBase) -> Iterable[str]:
    """Every string in the knowledge files: names, roles, aliases."""
    def walk(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    for career in knowledge.careers.values():
        yield from walk(career.data)


def _unique(patterns: Iterable[Dict[str, object]]) -> List[Dict[str, object]]:
    seen, out = set(), []
    for pattern in patterns:
        key = repr(pattern)
        if key not in seen:
            seen.add(key)
            out.append(pattern)
    return out


def build(knowledge: KnowledgeBase, out_dir: Path) -> Path:
    nlp = spacy.blank("en")
    nlp.meta["name"] = "careerbot_en"
    nlp.meta["description"] = "Blank English with entity rules generated from careerbot's knowledge"
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(entity_patterns(nlp, knowledge))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    return out_dir


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", help="where to write the pipeline "
                        "(default: CAREERBOT_SPACY_MODEL or build/spacy/careerbot_en)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        knowledge = KnowledgeBase.load(settings.knowledge_dir, settings.career)
    except (KnowledgeError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out = build(knowledge, Path(args.out_dir) if args.out_dir else settings.spacy_model_dir)
    print(f"spaCy pipeline written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
