"""Builds the project's own spaCy pipeline: blank English plus entity rules.

No pretrained English pipeline fits Rasa 3.6's spaCy range and none can be
downloaded here, so Rasa's SpacyNLP loads this one by path. Its entity ruler
recognises job levels, US states, fields of study and other jobs; the patterns
come from the knowledge files and the vocabularies, so a new career's words are
picked up by rebuilding, not by code. Patterns are token patterns (whole words),
and where two overlap the longest wins: "bank manager" is another job, not the
manager level; "loan officers" is a job the knowledge names, not another job.

    python -m bot.rasa.nlp build/spacy/careerbot_en
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler

from bot import vocab
from bot.knowledge import Career, KnowledgeBase, KnowledgeError
from bot.settings import Settings, SettingsError

ENTITY_LABELS = ("job_level", "us_state", "degree_field", "other_career")
# Jobs this career's knowledge names itself (a loan officer, an accounting clerk).
# The ruler marks them so that no shorter pattern inside them fires ("officer",
# "clerk"), and Rasa's SpacyEntityExtractor drops them: it keeps only ENTITY_LABELS.
OWN_ROLE_LABEL = "career_role"
# The knowledge's sources by name, for the same reason: "Statistics" in "Bureau of
# Labor Statistics" is no field of study.
SOURCE_LABEL = "knowledge_source"
# Leading words of a knowledge phrase that are not part of a job's name ("all loan officers").
_DETERMINERS = ("all", "the", "a", "an", "most", "many", "some")


def _words(nlp: Language, text: str) -> List[str]:
    return [t.text.lower() for t in nlp.make_doc(text)]


def _phrase(nlp: Language, label: str, text: str, plural: bool = True) -> Dict[str, Any]:
    """A case-insensitive token pattern: whole words only; the last may be plural."""
    words = _words(nlp, text)
    tokens: List[Dict[str, Any]] = [{"LOWER": w} for w in words]
    if plural and words[-1].isalpha():
        forms = sorted({words[-1], words[-1] + "s", vocab.plural(words[-1]).lower(), _singular(words[-1])})
        tokens[-1] = {"LOWER": {"IN": forms}}
    return {"label": label, "pattern": tokens}


def _singular(word: str) -> str:
    """Good enough for job titles the knowledge writes in the plural ('loan officers')."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def own_roles(career: Career) -> List[str]:
    """The jobs a career's knowledge names: the career itself, its levels, entry and later roles."""
    names = [career.name, career.plural, *career.aliases]
    for level in career.pay_levels:
        names += [level.name, *level.aliases]
    # Sections a career's source may not cover, or give as plain statements.
    names += career.data.get("no_degree", {}).get("associate_degree_entry_roles", [])
    names += career.data.get("advancement", {}).get("roles", [])
    names += [career.data["outlook"]["scope"]] if "scope" in career.data.get("outlook", {}) else []
    names += [related.name for related in career.related]
    roles = []
    for name in names:
        words = name.split()
        while len(words) > 1 and words[0].lower() in _DETERMINERS:
            words = words[1:]
        roles.append(" ".join(words))
    return roles


def entity_patterns(nlp: Language, knowledge: KnowledgeBase) -> List[Dict[str, Any]]:
    patterns: List[Dict[str, Any]] = []
    own_forms = set()  # every own job, singular and plural, as lower-case words
    for career in knowledge.careers.values():
        level_words = set()
        for level in career.pay_levels:
            for alias in (level.name,) + level.aliases:
                patterns.append(_phrase(nlp, "job_level", alias))
                level_words.add(" ".join(_words(nlp, alias)))
        for role in own_roles(career):
            words = " ".join(_words(nlp, role))
            own_forms |= {words, " ".join(_words(nlp, vocab.plural(role)))}
            if words not in level_words:
                patterns.append(_phrase(nlp, OWN_ROLE_LABEL, role))
        for field in career.data.get("education", {}).get("fields", []):
            patterns.append(_phrase(nlp, "degree_field", field, plural=False))
        for source in career.sources.values():
            patterns.append(_phrase(nlp, SOURCE_LABEL, source.name, plural=False))
    for field in vocab.degree_fields():
        patterns.append(_phrase(nlp, "degree_field", field, plural=False))
    for job in vocab.occupations():
        # Compared word for word, not as substrings: "vet" is not inside "veteran".
        forms = {" ".join(_words(nlp, job)), " ".join(_words(nlp, vocab.plural(job)))}
        if not forms & own_forms:
            patterns.append(_phrase(nlp, "other_career", job))
    for state in vocab.us_states():
        patterns.append(_phrase(nlp, "us_state", str(state["name"]), plural=False))
        code = {"TEXT": state["code"]}
        if state.get("ambiguous"):
            # "OK" and "HI" alone are words; "in OK" is a state.
            patterns.append({"label": "us_state", "pattern": [{"LOWER": {"IN": list(vocab.STATE_PREPOSITIONS)}}, code]})
        else:
            patterns.append({"label": "us_state", "pattern": [code]})
    return _unique(patterns)


def _unique(patterns: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
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
    assert isinstance(ruler, EntityRuler)
    ruler.add_patterns(entity_patterns(nlp, knowledge))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    return out_dir


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out_dir",
        nargs="?",
        help="where to write the pipeline (default: CAREERBOT_SPACY_MODEL or build/spacy/careerbot_en)",
    )
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
