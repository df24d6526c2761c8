"""The per-message knowledge lookup does the same work with 3 careers as with 300 (no timings: counted work).

Every message goes through `named_in` (which careers does it name?), and
`find`/`get` for a button's or a page's career. They are counted by tracing:
every line of Python they run and every builtin they call (each probe of the
name index is one `dict.get`). A lookup that looped over the careers would run
more lines with more careers; the last test shows that the count sees one.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, Callable, List

import pytest

from bot import KNOWLEDGE_DIR
from bot.devtools.bench_careers import write_fixture_careers
from bot.knowledge import Career, KnowledgeBase, career_files, load_career

DEFAULT = "mortgage_servicing_specialist"
MESSAGES = [
    "how much do loan officers make?",
    "compare the pay of bank tellers and mortgage loan officers, and then mortgage servicing specialists",
    "what are the working hours?",
    "and for fixture career 150s?",  # a generated career's name: found on the large site only
    "a long message that names no career at all but goes on and on about jobs, pay, hours and licences " * 3,
]


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The real careers (3) and the real careers with 297 generated ones (300)."""
    real = [load_career(path) for path in career_files(KNOWLEDGE_DIR)]
    generated_dir = tmp_path_factory.mktemp("generated")
    generated = [load_career(path) for path in write_fixture_careers(generated_dir, 297)]
    small = KnowledgeBase.from_careers(KNOWLEDGE_DIR, real, DEFAULT)
    large = KnowledgeBase.from_careers(generated_dir, real + generated, DEFAULT)
    assert (len(small.careers), len(large.careers)) == (3, 300)
    return small, large


def work(call: Callable[[], Any]) -> Counter:
    """What `call` executed: Python lines (by function) and builtin calls (by name)."""
    counted: Counter = Counter()

    def trace(frame, event, arg):
        if event == "line":
            counted[f"line in {frame.f_code.co_name}"] += 1
        return trace

    def profile(frame, event, arg):
        if event == "c_call":
            counted[f"builtin {getattr(arg, '__qualname__', arg)}"] += 1

    sys.settrace(trace)
    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
        sys.settrace(None)
    return counted


def probes(counted: Counter) -> int:
    return counted["builtin dict.get"]


@pytest.mark.parametrize("message", MESSAGES[:3] + MESSAGES[4:])
def test_naming_careers_costs_the_same_with_300_careers(sites, message):
    small, large = sites
    assert [c.id for c in small.named_in(message)] == [c.id for c in large.named_in(message)]
    few, many = work(lambda: small.named_in(message)), work(lambda: large.named_in(message))
    assert probes(few) > 0
    assert many == few


def test_a_generated_career_is_found_with_the_same_number_of_index_probes(sites):
    small, large = sites
    message = MESSAGES[3]
    assert small.named_in(message) == [] and [c.id for c in large.named_in(message)] == ["fixture_career_150"]
    # One more match, so a line or two more of bookkeeping, but the same probes of the index.
    assert probes(work(lambda: large.named_in(message))) <= probes(work(lambda: small.named_in(message)))


@pytest.mark.parametrize("name", ["tellers", "bank tellers", "loan_officers", "nobody"])
def test_finding_a_career_by_id_or_name_costs_the_same(sites, name):
    small, large = sites
    assert work(lambda: small.find(name)) == work(lambda: large.find(name))
    assert work(lambda: small.get(name)) == work(lambda: large.get(name))


class ScanningKnowledge(KnowledgeBase):
    """A lookup that compares the text with every career's names: what the index avoids."""

    def named_in(self, text: str) -> List[Career]:
        padded = f" {text.lower()} "
        return [c for c in self.careers.values() if any(f" {n.lower()} " in padded for n in c.names)]


def test_the_count_sees_a_lookup_that_grows_with_the_careers(sites):
    small, large = sites
    scanning = [ScanningKnowledge(site.careers, DEFAULT) for site in (small, large)]
    few, many = (work(lambda site=site: site.named_in(MESSAGES[0])) for site in scanning)
    assert sum(many.values()) > 10 * sum(few.values())  # 100 times the careers
