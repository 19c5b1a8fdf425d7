"""The local workspace's rooms and their one import direction, read from the source (no server).

the web UI (ui/) -> routes (api/) -> domain rules (domain/) -> workloads (workloads/) -> state (state/) -> core (core/).
A room may import its own modules and the rooms below it, never above; only the wiring modules at
the top (app.py, server.py, workspace.py, control.py, faults.py) import across. ``Workspace`` may
appear below the top as a type only (under ``if TYPE_CHECKING:``). The model server (serving/)
stands alone: it runs in its own process and imports no other room (others may use its parts).

Two more rules keep the rooms' jobs apart: the web framework (fastapi, starlette, pydantic) stays in
the routes and the UI (domain rules, workloads, state and core take plain values and records), and
routes and UI pages never write the store themselves: they call the domain or the workloads, which
own the rules of what a stored document may hold (``state/records.py`` types those documents). Above
``state/``, no room touches a raw stored document: none calls the store's document methods or a
record's ``to_doc``/``from_doc``, so what crosses between rooms is a typed record, never a loose dict.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LOCAL = Path(__file__).resolve().parents[2] / "automation" / "local"
RANK = {"ui": 5, "api": 4, "domain": 3, "workloads": 2, "state": 1, "core": 0}
WIRING = {"__init__", "app", "server", "workspace", "control", "faults"}
FRAMEWORKS = ("fastapi", "starlette", "pydantic")
FRAMEWORK_FREE = ("domain", "workloads", "state", "core")
READ_ONLY = ("api", "ui")
STORE_WRITES = {"insert", "update", "delete"}
RECORD_WRITES = {"insert", "save", "change", "patch", "remove"}
ABOVE_STATE = ("ui", "api", "domain", "workloads")
DOCUMENT_CALLS = {"get", "list", "insert", "update", "delete"}  # Store's methods over raw documents
DOC_CONVERSIONS = {"to_doc", "from_doc"}


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


def _framework_imports(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
    return [m for m in found if m.split(".")[0] in FRAMEWORKS]


def _store_writes(tree: ast.Module) -> list[str]:
    """Calls like ``ws.store.update(...)`` or ``records.save(...)``, as source text."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, verb = node.func.value, node.func.attr
        on_store = verb in STORE_WRITES and (
            (isinstance(owner, ast.Attribute) and owner.attr == "store")
            or (isinstance(owner, ast.Name) and owner.id == "store")
        )
        on_records = verb in RECORD_WRITES and isinstance(owner, ast.Name) and owner.id == "records"
        if on_store or on_records:
            found.append(ast.unparse(node.func))
    return found


def _raw_documents(tree: ast.Module) -> list[str]:
    """Calls that hand out or take a raw stored document: ``ws.store.get(...)``, ``store.list(...)``,
    ``job.to_doc()``, ``Job.from_doc(...)`` (``records.load``/``load_all``/``insert``/``save``/
    ``change``/``patch``/``remove`` are the typed way)."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, verb = node.func.value, node.func.attr
        on_store = verb in DOCUMENT_CALLS and (
            (isinstance(owner, ast.Attribute) and owner.attr == "store")
            or (isinstance(owner, ast.Name) and owner.id == "store")
        )
        if on_store or verb in DOC_CONVERSIONS:
            found.append(ast.unparse(node.func))
    return found


RULES = {  # rule -> (the rooms it holds in, what it finds in a module, what it means)
    "framework": (FRAMEWORK_FREE, _framework_imports, "imports a web framework"),
    "store-writes": (READ_ONLY, _store_writes, "writes the store; call the domain instead"),
    "raw-documents": (ABOVE_STATE, _raw_documents, "handles raw stored documents; use state/records.py"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize(("room", "path"), _modules(), ids=lambda v: str(v) if isinstance(v, str) else v.name)
def test_rooms_keep_to_their_jobs(rule: str, room: str, path: Path):
    """No web framework below the routes; routes and UI pages never write the store."""
    rooms, find, meaning = RULES[rule]
    if room not in rooms:
        return
    found = find(ast.parse(path.read_text(encoding="utf-8")))
    assert found == [], f"{path.relative_to(LOCAL)} ({room}) {meaning}: {found}"


def test_the_new_rules_catch_what_they_forbid():
    assert _framework_imports(ast.parse("from pydantic import BaseModel\nimport fastapi.routing\n")) == [
        "pydantic",
        "fastapi.routing",
    ]
    assert _framework_imports(ast.parse("from automation.local.core import shapes\nimport json\n")) == []
    writes = ast.parse(
        "ws.store.update('job', i, doc)\nstore.delete('job', i)\nrecords.save(ws.store, job)\n"
        "ws.store.get('job', i)\nrecords.load(ws.store, Job, i)\ndoc.update(changes)\n"
    )
    assert _store_writes(writes) == ["ws.store.update", "store.delete", "records.save"]
    raw = ast.parse(
        "ws.store.get('job', i)\nself.ws.store.list('job_run', parent=j)\nstore.update('job', i, {})\n"
        "Job.from_doc(doc)\njob.to_doc()\nrecords.load(ws.store, Job, i)\nrecords.patch(store, Job, i, x=1)\n"
        "ws.store.lock\nws.store.public_id('run', r)\nchanges.update(more)\nparams.get('name')\n"
    )
    assert _raw_documents(raw) == [
        "ws.store.get",
        "self.ws.store.list",
        "store.update",
        "Job.from_doc",
        "job.to_doc",
    ]
