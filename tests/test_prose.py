"""Lists in the prose are the code's: the intents of docs/intents.md and the README's layout.

The numbers are checked apart, span by span (tests/test_docs_numbers.py, `make docs-numbers`);
nothing here reads a sentence: only Markdown tables and the layout block.
"""

from __future__ import annotations

from typing import List, Set

import yaml

from bot import PROJECT_DIR

README = PROJECT_DIR / "README.md"
INTENTS_DOC = PROJECT_DIR / "docs" / "intents.md"


def table_intents(text: str) -> Set[str]:
    """The first cell of every table row, a `name`, outside the Entities section."""
    listed, section = set(), ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:]
        elif line.startswith("| `") and not section.startswith("Entities"):
            listed.add(line.split("|")[1].strip().strip("`"))
    return listed


def test_docs_intents_lists_exactly_the_intents_of_the_domain():
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert table_intents(INTENTS_DOC.read_text(encoding="utf-8")) == intents


def test_the_intents_are_read_from_the_tables_outside_entities():
    text = (
        "## Topic intents\n\n| intent | means |\n|---|---|\n| `ask_pay` | pay, `ask_hours` |\n\n"
        "## Entities\n\n| `job_level` | x |\n"
    )
    assert table_intents(text) == {"ask_pay"}


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
