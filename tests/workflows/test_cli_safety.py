"""At the CLI, against the fake: apply asks before it deletes or stops anything (exit 12 when it
cannot ask), destroy says what it left, and no output path shows a secret (plan text and JSON,
apply -v, amp with a token in a git URL)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fakes.fake_cml import FakeCML
from fakes.fixtures import cli_runner, url_cli_runner
from fakes.specs import REPO, TEST_SPEC

from automation.errors import EXIT_APPROVAL

SPEC = str(TEST_SPEC)
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(fake: FakeCML, client, monkeypatch, capsys) -> Cli:
    return cli_runner(client, monkeypatch, capsys)


def _model(fake: FakeCML) -> dict:
    return next(iter(fake.models.values()))


def _auth_changed(fake: FakeCML) -> None:
    """The PRD model's authentication no longer matches the spec: the plan replaces the model."""
    _model(fake)["auth_enabled"] = False
    fake.calls.clear()


# -- apply asks ---------------------------------------------------------------------------------------


def test_bootstrap_on_an_empty_workspace_needs_no_approval(fake: FakeCML, cli: Cli) -> None:
    code, _, err = cli("bootstrap", SPEC)  # stdin is not a terminal here
    assert code == 0 and "Destructive" not in err


def test_a_replace_is_refused_without_a_terminal_and_nothing_changes(fake: FakeCML, cli: Cli) -> None:
    assert cli("bootstrap", SPEC)[0] == 0
    _auth_changed(fake)
    model_id = _model(fake)["id"]
    code, _, err = cli("apply", SPEC)
    assert code == EXIT_APPROVAL == 12
    assert f"deletes PRD model 'wine-test-endpoint' ({model_id}) and stops its 1 active deployment(s)" in err
    assert "--auto-approve" in err and fake.writes() == []
    code, out, _ = cli("-o", "json", "apply", SPEC)
    data = json.loads(out)
    assert code == 12 and data["ok"] is False and data["error"] == "ApprovalRequired"
    assert data["exit_code"] == 12 and "deletes PRD model" in data["actions"][0]
    assert fake.writes() == [] and _model(fake)["id"] == model_id
    code, out, _ = cli("-o", "json", "plan", SPEC)  # plan says it too
    assert code == 0 and "deletes PRD model" in json.loads(out)["destructive"][0]


def test_a_terminal_is_asked_and_no_means_nothing_changes(fake: FakeCML, cli: Cli, monkeypatch) -> None:
    assert cli("bootstrap", SPEC)[0] == 0
    _auth_changed(fake)
    questions: list[str] = []
    answers = iter([False, True])
    monkeypatch.setattr("automation.cli.spec_cmds.stdin_is_tty", lambda: True)
    monkeypatch.setattr(
        "click.confirm", lambda text, **kw: questions.append(text) or next(answers), raising=True
    )
    code, _, err = cli("apply", SPEC)
    assert code == 12 and fake.writes() == [] and questions == ["Apply, including these?"]
    assert err.index("deletes PRD model") < len(err)  # listed before the question
    code, _, _ = cli("apply", SPEC)
    assert code == 0 and _model(fake)["auth_enabled"] is True and len(fake.active_deployments()) == 1


def test_auto_approve_applies_without_asking(fake: FakeCML, cli: Cli) -> None:
    assert cli("bootstrap", SPEC)[0] == 0
    _auth_changed(fake)
    code, out, err = cli("apply", "--auto-approve", SPEC)
    assert code == 0 and "Applied." in out and "deletes PRD model" in err
    assert _model(fake)["auth_enabled"] is True and len(fake.active_deployments()) == 1
    _auth_changed(fake)
    assert cli("bootstrap", "--auto-approve", SPEC)[0] == 0


# -- destroy says what it left ------------------------------------------------------------------------


def test_destroy_leaves_a_foreign_job_and_says_so(fake: FakeCML, client, cli: Cli) -> None:
    assert cli("bootstrap", SPEC)[0] == 0
    dev = fake.named(fake.projects, "wine-test-dev")[0]
    runtime = next(iter(fake.jobs.values()))["runtime_identifier"]
    other = client.jobs.create(dev["id"], name="team-b nightly", script="x.py", runtime_identifier=runtime)
    code, out, _ = cli("destroy", "--yes", SPEC)
    assert code == 0
    assert "Deleted 1 resource(s)." in out and "Left 2 thing(s):" in out
    assert f"job team-b nightly ({other.id}) in project wine-test-dev: not created by this spec" in out
    assert "project wine-test-dev" in out and "pass --force to delete it anyway" in out
    assert [j["name"] for j in fake.jobs.values()] == ["team-b nightly"] and dev["id"] in fake.projects
    code, out, _ = cli("-o", "json", "destroy", "--yes", "--force", SPEC)
    data = json.loads(out)
    assert code == 0 and [d["kind"] for d in data["deleted"]] == ["project"]
    assert data["deleted"][0]["contents"] == [
        f"job team-b nightly ({other.id}) in project wine-test-dev: not created by this spec"
    ]
    assert dev["id"] not in fake.projects


# -- secrets ------------------------------------------------------------------------------------------

OLD = {
    "H13_DB_PASSWORD": "old-db-pass-0001",
    "H13_PLAIN": "old-plain-value-0002",
    "H13_TOKEN": "old-tok-0003",
}
NEW = {
    "H13_DB_PASSWORD": "new-db-pass-9991",
    "H13_PLAIN": "new-plain-value-9992",
    "H13_TOKEN": "new-tok-9993",
}


def _secret_spec(tmp_path: Path) -> Path:
    """The test spec in a repo of its own, with ${env:...} values in job, project and deployment."""
    for name in ("code/wine.py", "code/02_Experiment_log_model.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "pyproject.toml").write_text("")
    data = yaml.safe_load(TEST_SPEC.read_text())
    data["training"]["job"]["environment"].update(
        {"DB_PASSWORD": "${env:H13_DB_PASSWORD}", "SETTING": "${env:H13_PLAIN}"}
    )
    data["projects"]["dev"]["environment"] = {"SETTING": "${env:H13_PLAIN}"}
    data["deployment"]["environment"] = {"API_TOKEN": "${env:H13_TOKEN}"}
    path = tmp_path / "secret-spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_no_secret_value_in_plan_apply_or_json_output(fake: FakeCML, tmp_path, monkeypatch, capsys) -> None:
    cli = url_cli_runner(monkeypatch, capsys, tmp_path)
    spec = str(_secret_spec(tmp_path))
    outputs: list[str] = []
    for name, value in OLD.items():
        monkeypatch.setenv(name, value)
    for args in (("-v", "bootstrap", spec), ("-v", "-o", "json", "plan", spec)):
        code, out, err = cli(*args)
        assert code == 0, err
        outputs.append(out + err)
    for name, value in NEW.items():  # every secret changes: plan shows old and new fields
        monkeypatch.setenv(name, value)
    runs, stdout = {}, {}
    for args in (
        ("plan", spec),
        ("-o", "json", "plan", spec),
        ("-v", "plan", spec),
        ("-v", "apply", spec),
        ("-v", "-o", "json", "apply", spec),
        ("-v", "status", spec),
    ):
        code, out, err = cli(*args)
        assert code == 0, (args, err)
        runs[args], stdout[args] = out + err, out
        outputs.append(out + err)
    text = "\n".join(outputs)
    leaked = [v for v in (*OLD.values(), *NEW.values()) if v in text]
    assert leaked == []
    plan_text = runs[("plan", spec)]
    assert '"DB_PASSWORD": "*** (changed)"' in plan_text and '"SETTING": "*** (changed)"' in plan_text
    plan = json.loads(stdout[("-o", "json", "plan", spec)])
    job = next(a for a in plan["actions"] if a["resource"] == "job.train wine model")
    old_env, new_env = job["changes"]["environment"]
    assert old_env["DB_PASSWORD"] == "***" and new_env["DB_PASSWORD"] == "*** (changed)"
    assert new_env["EXPERIMENT_NAME"] == "wine-test"  # plain values stay readable
    assert "-> PATCH /api/v2/projects/" in runs[("-v", "apply", spec)]  # the trace was there, masked
    job_env = json.loads(next(iter(fake.jobs.values()))["environment"])
    assert job_env["DB_PASSWORD"] == NEW["H13_DB_PASSWORD"]  # the workspace got the real value


def test_git_url_tokens_are_masked_in_amp_output(fake: FakeCML, cli: Cli) -> None:
    token_url = "https://ghp_h13SecretToken42@127.0.0.1:9/team/amp.git"
    for expected, *args in (
        (2, "amp", "validate", token_url),  # the clone fails: git's message names the URL
        (2, "-o", "json", "amp", "validate", token_url),
        (0, "-o", "json", "amp", "plan", "--offline", str(REPO), "--git-url", token_url),
        (0, "amp", "plan", "--offline", str(REPO), "--git-url", token_url),
    ):
        code, out, err = cli(*args)
        assert code == expected, (args, err)
        assert "ghp_h13SecretToken42" not in out + err, args
        assert "https://***@127.0.0.1:9/team/amp.git" in out + err, args
