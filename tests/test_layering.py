"""Imports run one way: server -> moderation -> rooms -> crypto.

Every module of the four packages is parsed (not imported) and each of its imports, wherever it
sits (function bodies and ``TYPE_CHECKING`` blocks included), is checked against the layer order.
The domain packages (rooms/, moderation/) never import the transport libraries either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["crypto", "rooms", "moderation", "server"]  # each may import only those before it
TRANSPORT = {"socketio", "engineio", "aiohttp"}
NO_TRANSPORT = {"crypto", "rooms", "moderation"}


def imported(path: Path, package: str, root: Path) -> list[tuple[int, str]]:
    """(line, top-level module name) for every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: within its own package (a parent above the package is a bug too)
                depth = len(path.relative_to(root).parts) - 1
                found.append((node.lineno, package if node.level <= depth else "<above-root>"))
            elif node.module:
                found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(package: str, root: Path = ROOT) -> list[str]:
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    ours = set(LAYERS)
    wrong = []
    for path in sorted((root / package).rglob("*.py")):
        for line, name in imported(path, package, root):
            where = f"{path.relative_to(root)}:{line} imports {name}"
            if name == "<above-root>" or (name in ours and name not in allowed):
                wrong.append(where)
            elif package in NO_TRANSPORT and name in TRANSPORT:
                wrong.append(where)
    return wrong


@pytest.mark.parametrize("package", LAYERS)
def test_imports_run_one_way(package: str) -> None:
    assert (ROOT / package / "__init__.py").is_file()
    assert violations(package) == []


def test_the_check_catches_a_wrong_way_import(tmp_path: Path) -> None:
    """Imports inside functions and relative ones above the package are found."""
    (tmp_path / "rooms").mkdir()
    (tmp_path / "rooms" / "probe.py").write_text(
        "from crypto import keys\ndef f():\n    from server import app\n    import aiohttp\n    from .. import x\n",
        encoding="utf-8",
    )
    assert violations("rooms", tmp_path) == [
        "rooms/probe.py:3 imports server",
        "rooms/probe.py:4 imports aiohttp",
        "rooms/probe.py:5 imports <above-root>",
    ]
