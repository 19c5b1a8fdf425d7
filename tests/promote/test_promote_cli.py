"""cmlops promote / history / rollback through the real CLI entry point, on the fake workspace."""

from __future__ import annotations

import json

import pytest
from fakes.fixtures import cli_runner
from fakes.specs import TEST_SPEC  # thresholds r2 >= 0.2, rmse <= 0.9; no "no worse" gate
from promote_support import BETTER, deployed_versions, train

SPEC = str(TEST_SPEC)


@pytest.fixture
def cli(converged, client, monkeypatch, capsys):
    """Run `cmlops ARGS` against the fake: returns (exit code, stdout, stderr)."""
    return cli_runner(client, monkeypatch, capsys)


def test_promote_json_report_on_stdout_and_in_the_report_file(
    cli, converged, client, spec, tmp_path, monkeypatch
):
    monkeypatch.setenv("GITHUB_SHA", "9f8e7d")
    run_id = train(converged, client, spec, BETTER)
    report_file = tmp_path / "promotion.json"

    code, out, _ = cli("-o", "json", "promote", SPEC, "--report", str(report_file))

    assert code == 0
    report = json.loads(out)
    assert json.loads(report_file.read_text()) == report
    assert (report["ok"], report["outcome"], report["rolled_back"], report["exit_code"]) == (
        True,
        "promoted",
        False,
        0,
    )
    assert report["action"] == "promote" and report["dry_run"] is False
    assert report["candidate"]["number"] == 2 and report["candidate"]["run_id"] == run_id
    assert report["candidate"]["metrics"]["rmse"] == pytest.approx(BETTER["rmse"])
    assert report["previous"]["number"] == 1 and report["previous"]["deployment_id"]
    assert [g["metric"] for g in report["gates"]] == ["r2", "rmse"] and report["gates_passed"] is True
    assert [s["step"] for s in report["steps"]] == [
        "register",
        "build",
        "deploy",
        "smoke",
        "stop_previous",
        "record",
    ]
    assert all(s["status"] == "ok" and s["seconds"] >= 0 for s in report["steps"])
    assert report["git_commit"] == "9f8e7d" and report["error"] is None
    assert report["started_at"] <= report["finished_at"]


def test_promote_gate_failure_prints_the_gate_table_and_exits_6(cli, converged, client, spec, tmp_path):
    train(converged, client, spec, {"rmse": 0.8, "mae": 0.6, "r2": 0.15})
    report_file = tmp_path / "r.json"

    code, out, _ = cli("promote", SPEC, "--report", str(report_file))

    assert code == 6
    lines = out.splitlines()
    assert lines[1].split() == ["gate", "metric", "value", "threshold", "verdict"]
    assert lines[2].split() == ["threshold", "r2", "0.1500", ">=", "0.2", "FAIL"]
    assert lines[3].split() == ["threshold", "rmse", "0.8000", "<=", "0.9", "pass"]
    assert "refused by the gates: nothing was built" in out
    assert json.loads(report_file.read_text())["outcome"] == "refused"
    assert converged.writes() == []


def test_promote_smoke_failure_report_says_rolled_back_and_exits_7(cli, converged, client, spec):
    converged.broken_runs.add(train(converged, client, spec, BETTER))

    code, out, _ = cli("-o", "json", "promote", SPEC)

    assert code == 7
    report = json.loads(out)
    assert (report["ok"], report["outcome"], report["failed_step"], report["rolled_back"]) == (
        False,
        "failed",
        "smoke",
        True,
    )
    assert report["error"]["error"] == "SmokeTestFailed"
    assert report["serving"] == "version 1 answers (verified after putting it back)"
    assert deployed_versions(converged) == [1]


def test_promote_smoke_failure_text_says_what_serves_now(cli, converged, client, spec):
    converged.broken_runs.add(train(converged, client, spec, BETTER))

    code, out, _ = cli("promote", SPEC)

    assert code == 7
    assert "failed at step smoke; PRD was put back" in out
    assert "serving now: version 1 answers (verified after putting it back)" in out


def test_promote_text_dry_run_lists_the_planned_steps(cli, converged, client, spec):
    train(converged, client, spec, BETTER)

    code, out, _ = cli("promote", SPEC, "--dry-run")

    assert code == 0
    assert "dry run: the steps above would run (nothing was changed)" in out
    planned = [line.split()[1] for line in out.splitlines() if line.strip().startswith("planned")]
    assert planned == ["register", "build", "deploy", "smoke", "stop_previous", "record"]
    assert converged.writes() == []


def test_history_and_rollback_commands(cli, converged, client, spec):
    train(converged, client, spec, BETTER)
    assert cli("promote", SPEC)[0] == 0

    code, out, _ = cli("-o", "json", "rollback", SPEC, "--to", "1")
    assert code == 0 and json.loads(out)["candidate"]["number"] == 1

    code, out, _ = cli("-o", "json", "history", SPEC)
    assert code == 0
    assert [(e["version"], e["stage"]) for e in json.loads(out)["history"]] == [
        (1, "production"),
        (2, "rolled_back"),
    ]

    code, out, _ = cli("history", SPEC)
    rows = [line.split()[:3] for line in out.splitlines()]
    assert rows[0] == ["version", "stage", "at"]
    assert [r[:2] for r in rows[1:]] == [["1", "production"], ["2", "rolled_back"]]


def test_candidate_flags_are_exclusive(cli):
    code, _, err = cli("promote", SPEC, "--version", "1", "--latest")
    assert code == 2
    assert "--version and --latest both pick the candidate" in err
