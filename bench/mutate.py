"""Mutation testing for cmlops' core: plant one small bug at a time, run the tests that should notice.

    python bench/mutate.py automation/reconcile/selection.py          # one module, its test subset
    python bench/mutate.py --all                                       # every module of MODULES
    python bench/mutate.py automation/local/app.py::BearerAuth         # one class or function only
    python bench/mutate.py automation/redact.py --list                 # the mutants, without running
    python bench/mutate.py automation/redact.py --only 44:15,60:8      # mutants at these line:columns
    python bench/mutate.py automation/redact.py --recheck              # the last run's survivors again

Each mutant is one change to the module's syntax tree: a comparison turned (``>=`` to ``>``, ``<``
to ``>``, ``==`` to ``!=``, ``in`` to ``not in``), an arithmetic or boolean operator swapped, a
``not`` dropped, a constant changed (numbers +1, booleans flipped, strings compared against
altered), an ``if`` condition negated, a call statement removed, an assigned call replaced by
None, a returned value replaced by None. The module is rewritten in a scratch copy of the repo
(the working tree is never touched) and the module's test subset (MODULES) runs with ``-x`` and a
per-mutant timeout; a failing or timing-out run kills the mutant. Survivors are printed with their
line and change; the ones judged equivalent are listed with the reason in bench/mutation-equivalent.txt
and reported apart. Results go to bench/mutation-results/<module>.json and a markdown table.

Why a small AST mutator rather than mutmut or cosmic-ray: it needs no state database or config
beyond this file, mutates exactly the operators the issue's hand-planted bugs used, runs one mutant
at a time at low priority (``nice``) on a shared 2-core machine, maps each module to the few test
files that exercise it (the full suite takes minutes per mutant), and works with the suite's live
local-workspace tests because the scratch copy is what every subprocess imports.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "mutation-results"
EQUIVALENT = REPO / "bench" / "mutation-equivalent.txt"

# the fake-CML reconcile suites (no live workspace: a mutant costs seconds)
RECONCILE_TESTS = [
    "tests/reconcile/test_plan_every_field.py",
    "tests/reconcile/test_plan_shape.py",
    "tests/reconcile/test_plan_multi.py",
    "tests/reconcile/test_desired_fields.py",
    "tests/reconcile/test_plan_details.py",
    "tests/reconcile/test_chain_runs.py",
    "tests/reconcile/test_apply_steps.py",
    "tests/reconcile/test_reconcile_changes.py",
    "tests/reconcile/test_reconcile_install.py",
    "tests/reconcile/test_reconcile_realities.py",
    "tests/reconcile/test_fake_cml.py",
    "tests/reconcile/test_reconcile_resume.py",
    "tests/workflows/test_wf_failures.py",
    "tests/workflows/test_cli_safety.py",
]

# the spec layer: its own suite and the commands that load, validate and migrate specs, the
# seconds-long property and limit tests last (``-x`` stops at the first failure, so a mutant a
# quick test kills costs about 3 s instead of 20)
SPEC_TESTS = [
    *(
        f"tests/spec/test_spec_{name}.py"
        for name in (
            "errors",
            "names",
            "targets",
            "v2",
            "migrate",
            "migrate_text",
            "files",
            "substitution",
            "diagnostics_paths",
            "flagship",
            "schema",
        )
    ),
    "tests/cli/test_spec_v2_cmds.py",
    "tests/cli/test_migrate_cmd.py",
    *(f"tests/spec/test_spec_{name}.py" for name in ("yaml_safety", "limits", "fuzz")),
]

# module (optionally ::Name to mutate one top-level class or function) -> the tests that must notice
MODULES: dict[str, list[str]] = {
    "automation/reconcile/selection.py": [
        "tests/reconcile/test_gates_boundaries.py",
        "tests/reconcile/test_model_discovery.py",
        "tests/workflows/test_wf_failures.py",
    ],
    "automation/redact.py": [
        "tests/test_trace_redaction.py",
        "tests/test_redacting_writer.py",
        "tests/test_http.py",
        "tests/test_settings.py",
    ],
    "automation/http.py": [
        "tests/test_http.py",
        "tests/test_http_details.py",
        "tests/test_trace_redaction.py",
    ],
    **{
        f"automation/reconcile/{name}": RECONCILE_TESTS
        for name in (
            "plan/common.py",
            "plan/projects.py",
            "plan/jobs.py",
            "plan/applications.py",
            "plan/models.py",
            "desired.py",
            "chain.py",
            "observe.py",
        )
    },
    # apply's step details, ids and gate reports are read by the CLI's output and the workflows
    "automation/reconcile/apply.py": [
        *RECONCILE_TESTS,
        "tests/workflows/test_wf_bootstrap.py",
        "tests/cli/test_spec_cmds.py",
    ],
    "automation/spec/substitute.py": ["tests/spec"],
    "automation/spec/files.py": ["tests/spec"],
    "automation/spec/loader.py": ["tests/spec"],
    "automation/spec/diagnostics.py": ["tests/spec"],
    **{
        f"automation/spec/{name}": SPEC_TESTS
        for name in (
            "models.py",
            "migrate.py",
            "yamlload.py",
            "fields.py",
            "graph.py",
            "workloads.py",
            "schema.py",
            "v1.py",
            "overrides.py",
            "runtime.py",
        )
    },
    "automation/local/core/files.py": [
        "tests/local/test_local_path_checks.py",
        "tests/local/test_local_file_units.py",
        "tests/local/test_local_files.py",
    ],
    "automation/local/state/keys.py": [
        "tests/local/test_local_keyfile.py",
        "tests/local/test_local_key_variants.py",
    ],
    "automation/local/app.py::BearerAuth": ["tests/local/test_local_key_variants.py"],
    "automation/local/api/auth.py": ["tests/local/test_local_auth.py"],
    "automation/local/serving/inputs.py": [
        "tests/local_serving/test_serving_inputs.py",
        "tests/local_serving/test_serving_input_details.py",
    ],
}
# Tests of a subset that need a live server are slow per mutant; they are deselected where a
# faster test of the same behaviour exists in the subset.
DESELECT: dict[str, str] = {
    "automation/local/core/files.py": "not live",
}

# Plugins are loaded by name (PYTEST_DISABLE_PLUGIN_AUTOLOAD in test_env): autoloading every
# installed plugin (schemathesis above all) costs about 3 s of CPU per mutant.
PLUGINS = ["-p", "pytest_timeout", "-p", "_hypothesis_pytestplugin"]

_COMPARE = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_BINOP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
_BOOL = {ast.And: ast.Or, ast.Or: ast.And}


@dataclass
class Mutant:
    index: int  # position of the node in the walk order of the module's tree
    line: int
    col: int
    kind: str  # e.g. "GtE->Gt", "const 0->1", "not-removed", "call-removed"
    scope: str  # enclosing def/class, dotted
    end_line: int = 0  # last line of the code the mutant changes (an if's condition, not its body)

    @property
    def key(self) -> str:
        return f"{self.line}:{self.col}:{self.kind}"


@dataclass
class Outcome:
    key: str
    scope: str
    status: str  # killed | survived | timeout | equivalent
    seconds: float
    detail: str = ""


# --- enumerating mutants ------------------------------------------------------------------------------


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, TYPE_CHECKING blocks, __all__."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
            mark(first)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.arg):
            mark(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            mark(node)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            mark(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mark(node)
    return skip


def _scopes(tree: ast.AST) -> dict[int, str]:
    out: dict[int, str] = {}

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{scope}.{child.name}" if scope else child.name
            out[id(child)] = inner
            visit(child, inner)

    visit(tree, "")
    return out


def _compared_strings(tree: ast.AST) -> set[int]:
    """String constants that are compared against (``x == "built"``, ``s in ("a", "b")``)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                for n in ast.walk(side):
                    if isinstance(n, ast.Constant) and isinstance(n.value, str):
                        found.add(id(n))
    return found


def _no_mutate_lines(source: str) -> set[int]:
    return {i for i, line in enumerate(source.splitlines(), 1) if "pragma: no mutate" in line}


def mutations_of(node: ast.AST, compared: set[int]) -> list[str]:
    """The mutation kinds that apply to one node."""
    kinds: list[str] = []
    if isinstance(node, ast.Compare):
        for j, op in enumerate(node.ops):
            for new in _COMPARE.get(type(op), ()):
                kinds.append(f"cmp{j} {type(op).__name__}->{new.__name__}")
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP:
        kinds.append(f"op {type(node.op).__name__}->{_BINOP[type(node.op)].__name__}")
    elif isinstance(node, ast.BoolOp):
        kinds.append(f"bool {type(node.op).__name__}->{_BOOL[type(node.op)].__name__}")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        kinds.append(f"{type(node.op).__name__.lower()}-removed")
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            kinds.append(f"const {value}->{not value}")
        elif isinstance(value, (int, float)):
            kinds.append(f"const {value!r}->{value + 1!r}")
        elif isinstance(value, str) and id(node) in compared:
            kinds.append("const str->altered")
    elif isinstance(node, ast.If):
        kinds.append("if-negated")
    elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
        kinds.append("call-removed")
    elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
        kinds.append("assigned-call->None")
    elif isinstance(node, ast.Return) and not _returns_none(node):
        kinds.append("return->None")
    return kinds


def _returns_none(node: ast.Return) -> bool:
    return node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None)


def _in_scope(scope: str, only: str | None) -> bool:
    return only is None or scope == only or scope.startswith(only + ".")


def enumerate_mutants(source: str, only_scope: str | None = None) -> list[Mutant]:
    tree = ast.parse(source)
    skip, scopes, compared = _skipped_nodes(tree), _scopes(tree), _compared_strings(tree)
    quiet = _no_mutate_lines(source)
    mutants: list[Mutant] = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip or not hasattr(node, "lineno") or node.lineno in quiet:
            continue
        scope = scopes.get(id(node), "")
        if not _in_scope(scope, only_scope):
            continue
        changed = node.test if isinstance(node, ast.If) else node
        end = max(changed.end_lineno or changed.lineno, node.lineno)
        for kind in mutations_of(node, compared):
            mutants.append(Mutant(index, node.lineno, node.col_offset, kind, scope, end))
    return mutants


def apply_mutant(source: str, mutant: Mutant) -> str:
    """The module's source with one mutant planted (formatting is lost; meaning is kept)."""
    tree = ast.parse(source)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == mutant.index)
    kind = mutant.kind
    if kind.startswith("cmp"):
        j = int(kind[3 : kind.index(" ")])
        new = kind.split("->")[1]
        node.ops[j] = getattr(ast, new)()
    elif kind.startswith("op ") or kind.startswith("bool "):
        node.op = getattr(ast, kind.split("->")[1])()
    elif kind.endswith("-removed") and isinstance(node, ast.UnaryOp):
        _replace(tree, node, node.operand)
    elif kind.startswith("const "):
        value = node.value
        if isinstance(value, bool):
            node.value = not value
        elif isinstance(value, (int, float)):
            node.value = value + 1
        else:
            node.value = value + "_mutant" if value else "mutant"
    elif kind == "if-negated":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif kind == "call-removed":
        _replace(tree, node, ast.Pass())
    elif kind == "assigned-call->None" or kind == "return->None":
        node.value = ast.Constant(value=None)
    else:  # pragma: no cover - a kind added above without its application
        raise ValueError(kind)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return
    raise ValueError("node not found")


# --- running --------------------------------------------------------------------------------------


def scratch_copy() -> Path:
    """A copy of the repo (sources and tests only) that the mutants are written into."""
    target = Path(tempfile.mkdtemp(prefix="cmlops-mutate-")) / "repo"
    ignore = shutil.ignore_patterns(
        ".git", ".cmlops", "__pycache__", "*.pyc", ".ruff_cache", "mutation-results"
    )
    shutil.copytree(REPO, target, ignore=ignore, symlinks=True)
    return target


def test_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CML_", "CDSW_", "CMLOPS_"))}
    env["PYTHONPATH"] = str(root)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    shared = REPO.parent / "shared"
    env.setdefault("WINE_DATA", str(shared / "data" / "wine-quality.csv"))
    env.setdefault("CML_SWAGGER", str(shared / "reference" / "cml-api-v2.swagger.json"))
    env.pop("CI", None)  # a skip is a skip here; the baseline run shows any
    return env


def run_tests(
    root: Path,
    tests: list[str],
    deselect: str | None,
    timeout: float,
    *,
    line_map: Path | None = None,
    target: Path | None = None,
) -> tuple[str, float, str]:
    """Run ``tests`` with ``-x``: (killed | survived | timeout, seconds, pytest's last line).
    With ``line_map``, the mutate_lines plugin records which test ran which line of ``target``."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *PLUGINS]
    cmd += ["-o", f"timeout={timeout:.0f}"]
    env = test_env(root)
    if line_map is not None and target is not None:
        cmd += ["-p", "mutate_lines"]
        env["PYTHONPATH"] += os.pathsep + str(root / "bench")
        env["MUTATE_LINES_FILE"], env["MUTATE_LINES_OUT"] = str(target), str(line_map)
    if deselect:
        cmd += ["-k", deselect]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*cmd, *tests],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout * 2 + 30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started, ""
    elapsed = time.monotonic() - started
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode == 0:
        return "survived", elapsed, last
    if "Failed: Timeout" in done.stdout:
        return "timeout", elapsed, last
    return "killed", elapsed, last


@dataclass
class LineMap:
    """Which tests of the subset run each line of the module (from one traced baseline run)."""

    tests: list[str]
    lines: dict[int, list[int]]
    at_import: set[int]

    @classmethod
    def read(cls, path: Path) -> LineMap | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        lines = {int(k): v for k, v in data["lines"].items()}
        return cls(data["tests"], lines, set(data["import"]))

    def tests_for(self, mutant: Mutant) -> list[str] | None:
        """The node ids that run the mutant's lines, in the subset's order; None when a line runs
        at import time or no test runs it (then the whole subset decides)."""
        span = range(mutant.line, max(mutant.end_line, mutant.line) + 1)
        if any(line in self.at_import for line in span):
            return None
        picked = sorted({t for line in span for t in self.lines.get(line, ())})
        return [self.tests[t] for t in picked] or None


def _clear_pyc(path: Path) -> None:
    for pyc in (path.parent / "__pycache__").glob(path.stem + ".*.pyc"):
        pyc.unlink()


def load_equivalent() -> dict[str, str]:
    """'module line:col:kind' -> reason, from bench/mutation-equivalent.txt."""
    out: dict[str, str] = {}
    if EQUIVALENT.is_file():
        for raw in EQUIVALENT.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            ident, _, reason = line.partition("  ")
            out[ident.strip()] = reason.strip()
    return out


def mutate_module(target: str, root: Path, *, only: str | None = None, log=print) -> dict:
    path_text, _, only_scope = target.partition("::")
    tests = MODULES.get(target) or MODULES.get(path_text)
    if not tests:
        raise SystemExit(f"no test subset for {target}: add it to MODULES in bench/mutate.py")
    deselect = DESELECT.get(target) or DESELECT.get(path_text)
    source_path = root / path_text
    original = source_path.read_text()
    mutants = enumerate_mutants(original, only_scope or None)
    if only:
        wanted = tuple(only.split(","))
        mutants = [m for m in mutants if m.key.startswith(wanted)]
    line_map_path = root.parent / "lines.json"
    line_map_path.unlink(missing_ok=True)
    status, base_seconds, last = run_tests(
        root, tests, deselect, 600, line_map=line_map_path, target=source_path
    )
    if status != "survived":
        raise SystemExit(f"{target}: the test subset fails without any mutant ({last}); fix that first")
    lines = LineMap.read(line_map_path)
    timeout = max(60.0, base_seconds * 4)
    log(f"{target}: {len(mutants)} mutants, baseline {base_seconds:.1f}s ({last}), timeout {timeout:.0f}s")
    equivalent = load_equivalent()
    outcomes: list[Outcome] = []
    started = time.monotonic()
    try:
        for n, mutant in enumerate(mutants, 1):
            source_path.write_text(apply_mutant(original, mutant))
            _clear_pyc(source_path)
            status, seconds = _judge(
                root, tests, deselect, timeout, lines.tests_for(mutant) if lines else None
            )
            reason = equivalent.get(f"{target} {mutant.key}", "")
            if status == "survived" and reason:
                status = "equivalent"
            outcomes.append(Outcome(mutant.key, mutant.scope, status, round(seconds, 1), reason))
            if status in ("survived", "equivalent"):
                log(
                    f"  [{n}/{len(mutants)}] {status.upper()}: {target} {mutant.key} in {mutant.scope or '<module>'}"
                )
    finally:
        source_path.write_text(original)
        _clear_pyc(source_path)
    result = {"module": target, "tests": tests, **_tally([asdict(o) for o in outcomes])}
    result["seconds"] = round(time.monotonic() - started, 1)
    _log_tally(log, target, result)
    return result


def _tally(outcomes: list[dict]) -> dict:
    """Counts, kill rate and the outcomes themselves, as a results file holds them."""
    counts = {
        s: sum(1 for o in outcomes if o["status"] == s)
        for s in ("killed", "timeout", "survived", "equivalent")
    }
    judged = len(outcomes) - counts["equivalent"]
    rate = (counts["killed"] + counts["timeout"]) / judged if judged else 1.0
    return {"mutants": len(outcomes), **counts, "kill_rate": round(rate, 4), "outcomes": outcomes}


def _log_tally(log, target: str, result: dict) -> None:
    judged = result["mutants"] - result["equivalent"]
    log(
        f"{target}: killed {result['killed'] + result['timeout']}/{judged} ({result['kill_rate']:.0%}), "
        f"{result['equivalent']} equivalent, {result['survived']} survived, {result['seconds']:.0f}s"
    )


def recheck_module(target: str, root: Path, *, log=print) -> dict:
    """Run again only the survivors of the module's results file (after tests were written for
    them) and update it; the module's mutants must be the ones the file lists (same source)."""
    stored_path = RESULTS / _result_name(target)
    if not stored_path.is_file():
        raise SystemExit(f"{target}: no results in {stored_path} yet; run it in full first")
    stored = json.loads(stored_path.read_text())
    path_text, _, scope = target.partition("::")
    keys = [m.key for m in enumerate_mutants((REPO / path_text).read_text(), scope or None)]
    if keys != [o["key"] for o in stored["outcomes"]]:
        raise SystemExit(f"{target} changed since its results were written; run it in full")
    # a survivor listed as equivalent since survived the whole subset already: it is not run again
    equivalent = load_equivalent()
    listed = {o["key"]: equivalent[f"{target} {o['key']}"] for o in stored["outcomes"]
              if o["status"] == "survived" and f"{target} {o['key']}" in equivalent}  # fmt: skip
    again = [o["key"] for o in stored["outcomes"] if o["status"] == "survived" and o["key"] not in listed]
    by_key = {
        k: {**o, "status": "equivalent", "detail": listed[k]}
        for o in stored["outcomes"]
        if (k := o["key"]) in listed
    }
    fresh = {"seconds": 0.0}
    if again:
        fresh = mutate_module(target, root, only=",".join(again), log=log)
        by_key.update({o["key"]: o for o in fresh["outcomes"]})
    outcomes = [by_key.get(o["key"], o) for o in stored["outcomes"]]
    result = {**stored, **_tally(outcomes), "rechecked": {"mutants": len(again), "seconds": fresh["seconds"]}}
    _log_tally(log, target, result)
    return result


def _judge(
    root: Path, tests: list[str], deselect: str | None, timeout: float, covering: list[str] | None
) -> tuple[str, float]:
    """Run the tests that run the mutant's lines; a survivor there is judged again by the whole
    subset (the line map only ever narrows a run, so it can hide a kill, never make one)."""
    if covering:
        status, seconds, _ = run_tests(root, covering, deselect, timeout)
        if status != "survived":
            return status, seconds
    else:
        seconds = 0.0
    status, more, _ = run_tests(root, tests, deselect, timeout)
    return status, seconds + more


def table(results: list[dict]) -> str:
    rows = [
        "| module | mutants | killed | equivalent | survived | kill rate | time |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| `{r['module']}` | {r['mutants']} | {r['killed'] + r['timeout']} | {r['equivalent']} | "
            f"{r['survived']} | {r['kill_rate']:.0%} | {r['seconds'] / 60:.1f} min |"
        )
    return "\n".join(rows)


def _result_name(target: str) -> str:
    return target.replace("/", ".").replace("::", "..") + ".json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module paths (MODULES keys); default: none")
    parser.add_argument("--all", action="store_true", help="every module of MODULES, one after the other")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument(
        "--only", help="only mutants whose line:col:kind starts with this (several: comma-separated)"
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="run again only the survivors in the module's results file and update it (same source)",
    )
    parser.add_argument("--min-rate", type=float, default=0.9, help="exit 1 when a module is below this")
    args = parser.parse_args(argv)
    targets = list(MODULES) if args.all else args.modules
    if not targets:
        parser.error("name one or more modules, or --all")
    if args.list:
        for target in targets:
            path_text, _, scope = target.partition("::")
            for m in enumerate_mutants((REPO / path_text).read_text(), scope or None):
                print(f"{target} {m.key}  ({m.scope or '<module>'})")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-ups below
    root = scratch_copy()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for target in targets:
            if args.recheck:
                result = recheck_module(target, root)
            else:
                result = mutate_module(target, root, only=args.only)
            if not args.only:
                (RESULTS / _result_name(target)).write_text(json.dumps(result, indent=1) + "\n")
            results.append(result)
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)
    print(table(results))
    return 0 if all(r["kill_rate"] >= args.min_rate for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
