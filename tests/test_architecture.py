"""The import rules of docs/architecture.md, checked against every import in bot/ and actions/.

The rules are read from the table in docs/architecture.md (the one place they are
written): each row names a layer, its modules, the layers it may import and the
outside packages it must never import. Every module of bot/ and actions/ must belong
to a row, and every import of the project's own code, at the top of a file or inside
a function, must go to its own layer or one the row allows. Imports are read with
ast, so nothing is executed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Set, Tuple

import pytest

from bot import PROJECT_DIR

ARCHITECTURE = PROJECT_DIR / "docs" / "architecture.md"
SOURCES = ("bot", "actions")


@dataclass(frozen=True)
class Layer:
    name: str
    modules: Tuple[str, ...]
    may_import: Tuple[str, ...]
    never: Tuple[str, ...]

    def holds(self, module: str) -> bool:
        # `bot` is the package's __init__ alone; the other entries are modules or whole packages.
        return any(module == m or (m != "bot" and module.startswith(m + ".")) for m in self.modules)


def _names(cell: str) -> Tuple[str, ...]:
    return tuple(re.findall(r"`([\w.]+)`", cell)) or tuple(n.strip() for n in cell.split(",") if n.strip() != "—")


def layers() -> List[Layer]:
    """The rows of the table under '## Packages and what they may import'."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Packages and what they may import", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| layer")]
    found = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        name, modules, _owns, may_import, never = cells
        found.append(Layer(name.strip("*"), _names(modules), _names(may_import), _names(never)))
    assert found, f"no layer table in {ARCHITECTURE}"
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> Iterator[Tuple[str, Path]]:
    for source in SOURCES:
        for path in sorted((PROJECT_DIR / source).rglob("*.py")):
            yield module_name(path), path


def imports(path: Path, module: str) -> Iterator[Tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from bot import logs` imports the module bot.logs
                yield node.lineno, f"{base}.{alias.name}"


def layer_of(module: str, table: List[Layer]) -> Optional[Layer]:
    matches = [layer for layer in table if layer.holds(module)]
    return max(matches, key=lambda layer: max(len(m) for m in layer.modules if layer.holds(module)), default=None)


def project_module(name: str, known: Set[str]) -> Optional[str]:
    """`name` if it is one of the project's modules (a `from x import name` may name a function instead)."""
    return name if name in known else None


def test_the_table_names_each_layer_once_and_only_known_layers():
    table = layers()
    names = [layer.name for layer in table]
    assert len(names) == len(set(names))
    for layer in table:
        assert set(layer.may_import) <= set(names), f"{layer.name} may import an unknown layer"


def test_every_module_belongs_to_a_layer():
    table = layers()
    assert [module for module, _ in modules() if layer_of(module, table) is None] == []


def violations(files: Iterable[Tuple[str, Path]]) -> List[str]:
    table = layers()
    known = {module for module, _ in modules()}
    found = []
    for module, path in files:
        own = layer_of(module, table)
        assert own is not None, module
        for line, imported in imports(path, module):
            where = f"{path.name}:{line}"
            if any(imported == n or imported.startswith(n + ".") for n in own.never):
                found.append(f"{where}: {own.name} imports {imported}, which it must never import")
            target = project_module(imported, known)
            if target is None:
                continue
            other = layer_of(target, table)
            assert other is not None
            if other.name != own.name and other.name not in own.may_import:
                found.append(f"{where}: {own.name} imports {target} ({other.name})")
    return found


def test_no_module_imports_a_layer_it_may_not():
    assert violations(modules()) == []


def test_the_check_finds_an_action_that_imports_the_rasa_server_or_a_launcher(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import rasa_sdk\n\n\ndef f():\n    from rasa.core.agent import Agent\n    from bot.launch import serve\n"
    )
    found = violations([("actions.probe", probe)])
    assert any("imports rasa.core.agent, which it must never import" in v for v in found), found
    assert any("imports bot.launch.serve (launchers)" in v for v in found), found
    assert not any("rasa_sdk" in v for v in found)


@pytest.mark.parametrize("module", ["bot.rasa.rendering", "bot.rasa.internals", "bot.channels.rest"])
def test_server_side_modules_are_not_in_the_actions_layer(module):
    table = layers()
    layer = layer_of(module, table)
    assert layer is not None and not layer.holds("actions")


def _environment_uses(tree: ast.AST) -> Iterator[Tuple[int, str]]:
    """Where a module touches the process environment: os.environ, os.getenv, os.putenv, or those imported by name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in ("environ", "environb", "getenv", "putenv", "unsetenv"):
                yield node.lineno, f"os.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in ("environ", "environb", "getenv", "putenv", "unsetenv"):
                    yield node.lineno, f"from os import {alias.name}"


def test_only_the_settings_module_reads_the_environment():
    """Every variable goes through bot/settings.py, where it is typed, checked and documented."""
    found = []
    for root in SOURCES:
        for path in sorted((PROJECT_DIR / root).rglob("*.py")):
            if path == PROJECT_DIR / "bot" / "settings.py":
                continue
            for line, use in _environment_uses(ast.parse(path.read_text(encoding="utf-8"))):
                found.append(f"{path.relative_to(PROJECT_DIR)}:{line}: {use}")
    assert not found, "read the environment through bot/settings.py:\n" + "\n".join(found)


def test_the_environment_check_finds_each_way_in():
    code = "import os\nfrom os import getenv\nos.environ.get('A')\nos.getenv('B')\nx = os.environ\n"
    assert [use for _, use in _environment_uses(ast.parse(code))].count("os.environ") == 2
    assert {use for _, use in _environment_uses(ast.parse(code))} == {
        "os.environ",
        "os.getenv",
        "from os import getenv",
    }
