"""The tutorials' code as a reader copies it: every import is used."""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.md"))


def _code(path: Path) -> str:
    cells = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    # IPython magics (%pip, !ls) are not Python; they import nothing
    return "\n".join("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.splitlines())
                     for cell in cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_import_is_used(path):
    tree = ast.parse(_code(path))
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                imported[name] = node.lineno
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {node.value.id for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    assert sorted(set(imported) - used) == []
