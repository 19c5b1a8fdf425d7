"""The local workspace's rooms and their one import direction, read from the source (no server).

the web UI (ui/) -> routes (api/) -> domain rules (domain/) -> workloads (workloads/) -> state (state/) -> core (core/).
A room may import its own modules and the rooms below it, never above; only the wiring modules at
the top (app.py, server.py, workspace.py, control.py, faults.py) import across. ``Workspace`` may
appear below the top as a type only (under ``if TYPE_CHECKING:``). The model server (serving/)
stands alone: it runs in its own process and imports no other room (others may use its parts).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LOCAL = Path(__file__).resolve().parents[2] / "automation" / "local"
RANK = {"ui": 5, "api": 4, "domain": 3, "workloads": 2, "state": 1, "core": 0}
WIRING = {"__init__", "app", "server", "workspace", "control", "faults"}


def _room(module: str) -> str | None:
    """'automation.local.api.jobs' -> 'api'; top-level wiring modules -> their name; else None."""
    parts = module.split(".")
    if parts[:2] != ["automation", "local"] or len(parts) < 3:
        return None
    return parts[2]


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Imported automation.local modules, leaving out those under `if TYPE_CHECKING:`."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                if child.module == "automation.local":
                    found.extend(f"automation.local.{a.name}" for a in child.names)
                else:
                    found.append(child.module)
            elif isinstance(child, ast.Import):
                found.extend(a.name for a in child.names)
            visit(child)

    visit(tree)
    return [m for m in found if m.startswith("automation.local")]


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(LOCAL.rglob("*.py")):
        rel = path.relative_to(LOCAL)
        out.append((rel.parts[0] if len(rel.parts) > 1 else rel.stem, path))
    return out


def test_the_local_workspace_has_its_rooms():
    rooms = {p.name for p in LOCAL.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == {*RANK, "serving"}
    loose = {p.stem for p in LOCAL.glob("*.py")}
    assert loose == WIRING, f"modules outside a room: {sorted(loose - WIRING)}"


@pytest.mark.parametrize(("room", "path"), _modules(), ids=lambda v: str(v) if isinstance(v, str) else v.name)
def test_imports_point_down(room: str, path: Path):
    if room in WIRING:
        return
    bad = []
    for module in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        target = _room(module)
        if room == "serving":
            if target != "serving":
                bad.append(module)
        elif target in WIRING or (target != "serving" and RANK.get(target, 99) > RANK[room]):
            bad.append(module)
    assert bad == [], f"{path.relative_to(LOCAL)} ({room}) imports upwards: {bad}"


def test_the_rule_catches_an_upward_import(tmp_path: Path):
    tree = ast.parse("from automation.local.api.jobs import router\nfrom automation.local.core import ids\n")
    assert [_room(m) for m in _runtime_imports(tree)] == ["api", "core"]
    typed = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from automation.local.workspace import W\n"
    )
    assert _runtime_imports(typed) == []
