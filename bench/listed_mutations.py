"""The bugs issue 14 found no test noticing, planted one at a time: each must now fail its test.

    python bench/listed_mutations.py            # all of them (about 3 minutes on a quiet machine)
    python bench/listed_mutations.py --list

Each entry is (what the bug is, file, the exact text replaced, its replacement, the test that must
fail). The replacement is made in a scratch copy of the repo (bench/mutate.py's), never in the working
tree; the entry counts as caught when the named test fails (or times out) with the bug and passes
without it. Exit code 1 when any bug is not caught, so a test weakened later shows up here.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate import PLUGINS, scratch_copy, test_env


@dataclass(frozen=True)
class Planted:
    bug: str
    file: str
    old: str
    new: str
    test: str
    timeout: int = 120


PLANTED = [
    Planted(
        "a job's memory difference planned as no change",
        "automation/reconcile/plan/jobs.py",
        "changes = diff(job_fields(job, want, names), want)",
        "changes = diff(job_fields(job, want, names), {k: v for k, v in want.items() if k != 'memory'})",
        "tests/reconcile/test_plan_every_field.py::test_each_job_field_alone_is_an_update",
    ),
    Planted(
        "apply's find-by-name before creating a project skipped",
        "automation/reconcile/apply.py",
        "existing = projects.find(pspec.name)",
        "existing = None",
        "tests/reconcile/test_plan_every_field.py::test_a_project_created_between_plan_and_apply_is_found_not_twinned",
    ),
    Planted(
        "the local server comparing keys with a prefix match",
        "automation/local/state/keys.py",
        'return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))',
        "return expected.startswith(given)",
        "tests/local/test_local_key_variants.py::test_api_refuses_a_near_miss_bearer_value",
    ),
    Planted(
        "the upload path check refusing '..' removed",
        "automation/local/core/files.py",
        'if ".." in parts:',
        "if False:",
        "tests/local/test_local_path_checks.py::test_dotdot_is_refused_even_when_it_resolves_inside",
    ),
    Planted(
        "the upload path check resolving inside the project removed",
        "automation/local/core/files.py",
        "if resolved != resolved_root and resolved_root not in resolved.parents:",
        "if False:",
        "tests/local/test_local_path_checks.py::test_a_symlink_out_of_the_project_is_refused",
    ),
    Planted(
        "a threshold's >= turned into >",
        "automation/reconcile/selection.py",
        "ok = value is not None and value >= t.min",
        "ok = value is not None and value > t.min",
        "tests/reconcile/test_gates_boundaries.py::test_min_threshold_is_inclusive",
    ),
    Planted(
        "a threshold's <= turned into <",
        "automation/reconcile/selection.py",
        "ok = value is not None and value <= t.max",
        "ok = value is not None and value < t.max",
        "tests/reconcile/test_gates_boundaries.py::test_max_threshold_is_inclusive",
    ),
    Planted(
        "the no-worse rule's higher-is-better branch reversed",
        "automation/reconcile/selection.py",
        "        ok = value is not None and value >= bound\n",
        "        ok = value is not None and value <= bound\n",
        "tests/reconcile/test_gates_boundaries.py::test_higher_is_better_without_tolerance",
    ),
    Planted(
        "the no-worse tolerance ignored (lower is better)",
        "automation/reconcile/selection.py",
        "bound = base + rule.tolerance",
        "bound = base",
        "tests/reconcile/test_gates_boundaries.py::test_lower_is_better_tolerance_widens_the_bound_upwards",
    ),
    Planted(
        "the no-worse tolerance ignored (higher is better)",
        "automation/reconcile/selection.py",
        "bound = base - rule.tolerance",
        "bound = base",
        "tests/reconcile/test_gates_boundaries.py::test_higher_is_better_tolerance_widens_the_bound_downwards",
    ),
    Planted(
        "min/max reversed for strategy: best",
        "automation/reconcile/selection.py",
        'sign = 1 if select.order == "min" else -1',
        'sign = 1 if select.order == "max" else -1',
        "tests/reconcile/test_gates_boundaries.py::test_best_with_order_min_takes_the_lowest",
    ),
    Planted(
        "the -v trace no longer masking secret-named request fields",
        "automation/http.py",
        "text = json.dumps(redact_data(json_body), sort_keys=True)",
        "text = json.dumps(json_body, sort_keys=True)",
        "tests/test_trace_redaction.py::test_a_secret_named_request_field_is_masked_in_the_trace",
    ),
    Planted(
        "the -v trace no longer masking secret-named response fields",
        "automation/http.py",
        "text = json.dumps(redact_data(response.json()), sort_keys=True)",
        "text = json.dumps(response.json(), sort_keys=True)",
        "tests/test_trace_redaction.py::test_a_secret_named_response_field_is_masked_in_the_trace",
    ),
    Planted(
        "AMP build_model.target_function_name made optional",
        "automation/amp/model.py",
        "    target_function_name: Annotated[str, Field(min_length=1)]\n",
        "    target_function_name: str | None = None\n",
        "tests/amp/test_amp_required_fields.py::test_a_missing_required_task_field_is_an_error_naming_it",
    ),
    Planted(
        "AMP start_application.subdomain made optional",
        "automation/amp/model.py",
        "    subdomain: Annotated[str, Field(min_length=1, max_length=63)]\n",
        "    subdomain: str | None = None\n",
        "tests/amp/test_amp_required_fields.py::test_a_missing_required_task_field_is_an_error_naming_it",
    ),
    Planted(
        "a wait timeout exiting 1 instead of 5",
        "automation/errors.py",
        "    exit_code = EXIT_TIMEOUT\n",
        "    exit_code = EXIT_FAILURE\n",
        "tests/workflows/test_cli_exit_codes.py::test_bootstrap_exit_code_per_failure",
    ),
    Planted(
        "model-serving processes inheriting CML_*/CDSW_* and the API key",
        "automation/local/workloads/runtime/workload_env.py",
        "env = {name: os.environ[name] for name in kept if name in os.environ}",
        "env = dict(os.environ)",
        "tests/local/test_local_child_env.py::test_model_servers_and_build_checks_inherit_no_workspace_variables",
        timeout=300,
    ),
    Planted(
        "the file-model build check importing user code with the server's CML_*/CDSW_*",
        "automation/local/serving/function.py",
        "        del os.environ[name]\n",
        "        pass\n",
        "tests/local_serving/test_serving_function.py::test_the_build_check_hides_the_workspace_variables_from_the_model_file",
        timeout=120,
    ),
    Planted(
        "a waiter that never times out (the test must fail on the suite timeout, not hang)",
        "automation/api/base.py",
        "        if elapsed >= timeout:\n",
        "        if False:\n",
        "tests/api/test_waiters.py::test_timeout_names_the_last_status",
        timeout=20,
    ),
]


def run(root: Path, planted: Planted) -> tuple[int, str, float]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGINS]
    cmd += ["-o", f"timeout={planted.timeout}", planted.test]
    started = time.monotonic()
    done = subprocess.run(
        cmd, cwd=root, env=test_env(root), capture_output=True, text=True, timeout=900, check=False
    )
    last = (done.stdout.strip().splitlines() or [""])[-1]
    timed_out = "Failed: Timeout" in done.stdout
    return done.returncode, last + (" [per-test timeout]" if timed_out else ""), time.monotonic() - started


def _clear_pyc(path: Path) -> None:
    for pyc in (path.parent / "__pycache__").glob(path.stem + ".*.pyc"):
        pyc.unlink()


def check(root: Path, planted: Planted) -> bool:
    """Plant one bug; True when its test passes without it and fails (or times out) with it."""
    path = root / planted.file
    original = path.read_text()
    if original.count(planted.old) != 1:
        print(f"| {planted.bug} | `{planted.test}` | NOT PLANTED: text not found once in {planted.file} |")
        return False
    clean_code, _, _ = run(root, planted)
    path.write_text(original.replace(planted.old, planted.new))
    _clear_pyc(path)
    try:
        code, last, seconds = run(root, planted)
    finally:
        path.write_text(original)
        _clear_pyc(path)
    caught = clean_code == 0 and code != 0
    verdict = (
        f"caught ({last}, {seconds:.0f}s)" if caught else f"MISSED (clean {clean_code}, bug {code}: {last})"
    )
    print(f"| {planted.bug} | `{planted.test.split('::')[-1]}` | {verdict} |", flush=True)
    return caught


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        for p in PLANTED:
            print(f"{p.bug}: {p.file} -> {p.test}")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below
    root = scratch_copy()
    print("| bug planted | test that catches it | result |\n|---|---|---|")
    try:
        missed = sum(not check(root, planted) for planted in PLANTED)
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
