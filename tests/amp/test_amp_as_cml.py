"""AMPs launched as CML launches them: the files CML would have had, values as the author wrote them,
one model of what is launchable, re-launches that respect the user, unknown keys that only warn, and
import/export that map only what is sound. Each test here failed before this was built."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from amp_support import ERRORS, FIXTURES, AmpFakeCML, line_of, materialise, spec_repo
from fakes.fixtures import cli_runner

from automation.amp.launch import LaunchOptions, launch
from automation.amp.loader import load_amp
from automation.api import CMLClient
from automation.errors import EXIT_USAGE, InputError
from automation.spec import parse_spec

RUNTIME = (
    "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-pbj-workbench-python3.10-standard:2025.09.1-b5"
)
INSTALLS = 'import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", "-r", "requirements.txt"])\n'
TRAINS = (
    "import mlflow\nfrom sklearn.linear_model import LogisticRegression\n\n"
    'model = LogisticRegression()\nwith mlflow.start_run():\n    mlflow.sklearn.log_model(model, "model")\n'
)
FETCHES = "import pandas as pd\n# mlflow.sklearn.log_model(old, 'model')  (a comment: not a call)\npd.read_csv('x')\n"


@pytest.fixture
def cli(fake_client: CMLClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    return cli_runner(fake_client, monkeypatch, capsys)


def _write(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)


def _launch(cli, path: Path, *extra: str) -> dict:
    code, out, err = cli("-o", "json", "amp", "launch", str(path), "--runtime-id", RUNTIME, "--yes", *extra)
    assert code == 0, err
    return json.loads(out)


def _plan(cli, path: Path, *extra: str) -> dict:
    code, out, err = cli("-o", "json", "amp", "plan", str(path), *extra)
    assert code == 0, err
    return json.loads(out)


def _uploaded(fake: AmpFakeCML) -> dict[str, bytes]:
    (store,) = fake.files.values()
    return store


# --- 1. files: what CML would have had -----------------------------------------------------------------


def test_a_folder_uploads_its_data_and_never_what_lies_outside_it(tmp_path: Path, fake: AmpFakeCML, cli):
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "secrets.txt").write_text("password=hunter2\n")  # beside the AMP's folder, not in it
    amp = materialise(outer, "install_first_jobs.yaml")
    _write(
        amp,
        {
            "data/tickets.csv": "id,text\n1,hello\n",
            "data/labels/part-0.csv": "id,queue\n1,billing\n",
            "README.md": "# Ticket routing\n",
            ".gitignore": "*.log\n",
            "debug.log": "noise\n",
            "__pycache__/x.cpython-311.pyc": "",
        },
    )
    plan = _plan(cli, amp, "--project", "tickets")
    files = next(s for s in plan["steps"] if s["task"] == "files")
    assert files["title"] == "9 of 9 file(s)"  # 4 scripts, the AMP file, .gitignore, README, 2 data files
    assert any("2 ignored file(s) left out" in n for n in plan["notes"])
    _launch(cli, amp, "--project", "tickets")
    assert sorted(_uploaded(fake)) == [
        ".gitignore",
        ".project-metadata.yaml",
        "README.md",
        "code/00_prepare_env.py",
        "code/01_fetch.py",
        "code/02_fit.py",
        "code/03_serve.py",
        "data/labels/part-0.csv",
        "data/tickets.csv",
    ]


def test_a_lone_amp_file_uploads_itself_and_its_scripts_not_its_folder(tmp_path: Path, fake: AmpFakeCML, cli):
    folder = materialise(tmp_path, "install_first_jobs.yaml")
    lone = folder / "ticket-routing.yaml"
    (folder / ".project-metadata.yaml").rename(lone)  # not an AMP repository: no .project-metadata.yaml
    _write(folder, {"secrets.txt": "password=hunter2\n", "notes/private.md": "mine\n"})
    plan = _plan(cli, lone, "--project", "lone")
    assert next(s for s in plan["steps"] if s["task"] == "files")["title"] == "5 of 5 file(s)"
    assert any("its folder is not an AMP repository" in n for n in plan["notes"])
    _launch(cli, lone, "--project", "lone")
    uploaded = _uploaded(fake)
    assert sorted(uploaded) == [
        ".project-metadata.yaml",
        "code/00_prepare_env.py",
        "code/01_fetch.py",
        "code/02_fit.py",
        "code/03_serve.py",
    ]
    assert uploaded[".project-metadata.yaml"] == lone.read_bytes()  # where CML reads it


# --- 2. values as written ---------------------------------------------------------------------------------


def test_yes_no_on_and_padded_numbers_reach_the_project_as_written(
    tmp_path: Path, fake: AmpFakeCML, fake_client: CMLClient, cli
):
    folder = materialise(tmp_path, "prebuilt_flags.yaml")
    code, _, err = cli("amp", "validate", str(folder))
    assert code == 0 and "warning" not in err  # no advice to change a value that works
    _launch(cli, folder, "--project", "flags")
    env = fake_client.projects.find("flags").environment
    assert (env["USE_PREBUILT_MODEL"], env["STREAM_EVENTS"], env["SPARK_DYNAMIC"], env["SHARD_ID"]) == (
        "yes",
        "no",
        "on",
        "007",
    )
    (job,) = fake.jobs.values()
    assert json.loads(job["environment"])["VERBOSE"] == "off"


# --- 3. one model of what is launchable ----------------------------------------------------------------


def test_an_inline_code_session_is_refused_by_validate_plan_and_launch_alike(
    tmp_path: Path, fake: AmpFakeCML, cli
):
    path = ERRORS / "inline_code_session.yaml"
    code, out, _ = cli("-o", "json", "amp", "validate", str(path))
    assert code == EXIT_USAGE
    (error,) = json.loads(out)["errors"]
    assert (error["field"], error["line"]) == ("tasks[1].code", line_of(path, "code: print"))
    assert "task 1 (run_session 'Say hello'): inline code cannot be launched" in error["message"]
    folder = tmp_path / "inline"
    folder.mkdir()
    shutil.copy(path, folder / ".project-metadata.yaml")
    (folder / "train.py").write_text("print('ok')\n")
    for command in ("plan", "launch"):
        code, _, err = cli("amp", command, str(folder), "--yes" if command == "launch" else "--rerun")
        assert code == EXIT_USAGE and "inline code cannot be launched" in err
    assert fake.writes() == []  # nothing created, nothing uploaded


def test_a_required_variable_the_project_holds_is_satisfied_on_relaunch(
    tmp_path: Path, fake: AmpFakeCML, fake_client: CMLClient, cli
):
    folder = materialise(tmp_path, "model_only.yaml")
    _launch(cli, folder, "--env", "HF_ACCESS_TOKEN=hf_secret_1")
    again = _launch(cli, folder)  # no --env: the project's value stands
    assert again["ok"] is True and "hf_secret_1" not in json.dumps(again)
    plan = _plan(cli, folder, "--runtime-id", RUNTIME)
    assert [s["task"] for s in plan["steps"] if s["action"] not in ("reuse", "skip")] == []
    assert (
        fake_client.projects.find("Deploy Mistral-7B Model").environment["HF_ACCESS_TOKEN"] == "hf_secret_1"
    )


# --- 4. re-launch keeps what the user changed ------------------------------------------------------------


def test_relaunch_keeps_user_edits_follows_new_defaults_and_obeys_env(
    tmp_path: Path, fake: AmpFakeCML, fake_client: CMLClient, cli
):
    folder = materialise(tmp_path, "prebuilt_flags.yaml")
    _launch(cli, folder, "--project", "flags")
    project = fake_client.projects.find("flags")
    fake_client.projects.update(project.id, environment={**project.environment, "STREAM_EVENTS": "yes"})
    meta = folder / ".project-metadata.yaml"
    meta.write_text(meta.read_text().replace("default: 007", "default: 008"))  # a new AMP version

    plan = _plan(cli, folder, "--project", "flags")
    env_step = next(s for s in plan["steps"] if s["task"] == "environment")
    assert set(env_step["changes"]) == {"SHARD_ID", "CMLOPS_AMP_DEFAULTS"}
    assert any(n.startswith("keeps STREAM_EVENTS as the project holds it") for n in plan["notes"])
    _launch(cli, folder, "--project", "flags")
    env = fake_client.projects.find("flags").environment
    assert (env["STREAM_EVENTS"], env["SHARD_ID"]) == ("yes", "008")

    _launch(cli, folder, "--project", "flags")  # a further re-launch still keeps the edit
    assert fake_client.projects.find("flags").environment["STREAM_EVENTS"] == "yes"
    _launch(cli, folder, "--project", "flags", "--env", "STREAM_EVENTS=no")
    assert fake_client.projects.find("flags").environment["STREAM_EVENTS"] == "no"


# --- 5. unknown keys ---------------------------------------------------------------------------------------


def test_unknown_keys_warn_with_did_you_mean_and_fail_under_strict(tmp_path: Path, cli):
    folder = materialise(tmp_path, "loose_keys.yaml")
    meta = folder / ".project-metadata.yaml"
    code, out, _ = cli("-o", "json", "amp", "validate", str(folder))
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    warned = {w["field"]: w for w in report["warnings"]}
    assert set(warned) == {
        "short_summary",
        "environment_variables.TICKET_TABLE.requried",
        "tasks[0].descripton",
    }
    assert "did you mean 'required'?" in warned["environment_variables.TICKET_TABLE.requried"]["message"]
    assert warned["short_summary"]["line"] == line_of(meta, "short_summary: Classify")
    assert _plan(cli, folder, "--offline")["ok"] is True
    code, out, _ = cli("-o", "json", "amp", "validate", "--strict", str(folder))
    assert code == EXIT_USAGE and len(json.loads(out)["errors"]) == 3
    code, _, err = cli("amp", "plan", "--offline", "--strict", str(folder))
    assert code == EXIT_USAGE and "unknown key 'short_summary'" in err


# --- 6. import and export -----------------------------------------------------------------------------------


def _imported(cli, path: Path, *extra: str) -> tuple[object, str]:
    code, out, err = cli("amp", "import", str(path), *extra)
    assert code == 0, err
    return parse_spec(out, file="imported.yaml", environ={}), err


def test_import_trains_with_the_job_that_logs_the_model_and_installs_with_the_first(tmp_path: Path, cli):
    folder = materialise(tmp_path, "install_first_jobs.yaml")
    _write(
        folder, {"code/00_prepare_env.py": INSTALLS, "code/01_fetch.py": FETCHES, "code/02_fit.py": TRAINS}
    )
    spec, err = _imported(cli, folder)
    trains = spec.model_named().job
    job = spec.jobs[trains]
    assert (trains, job.script) == ("Fit router", "code/02_fit.py")
    assert (job.arguments, job.cpu, job.memory) == ("--rounds 50", 2, 4)
    assert job.after == "Prepare environment"
    assert spec.jobs["Prepare environment"].script == "code/00_prepare_env.py"
    assert "left out task 2 (create_job 'Fetch tickets'): neither installs packages nor trains" in err
    spec, _ = _imported(cli, folder, "--training-job", "Fetch tickets")
    assert spec.model_named().job == "Fetch tickets"


def test_import_of_an_amp_that_trains_in_a_session(tmp_path: Path, cli):
    folder = materialise(tmp_path, "churn_sessions.yaml")
    _write(folder, {"code/0_bootstrap.py": INSTALLS, "code/4_train_models.py": TRAINS})
    spec, _ = _imported(cli, folder)
    trains = spec.model_named().job
    assert (trains, spec.jobs[trains].script) == ("Train Model", "code/4_train_models.py")
    assert [spec.jobs[name].script for name in spec.ancestors(trains)] == ["code/0_bootstrap.py"]


def test_import_says_precisely_why_it_cannot(tmp_path: Path, cli):
    folder = materialise(tmp_path, "install_first_jobs.yaml")  # every script just prints
    code, _, err = cli("amp", "import", str(folder))
    assert code == EXIT_USAGE and "no job or session of the AMP logs a model" in err
    assert "code/00_prepare_env.py, code/01_fetch.py, code/02_fit.py" in err
    _write(folder, {"code/01_fetch.py": TRAINS, "code/02_fit.py": TRAINS})
    code, _, err = cli("amp", "import", str(folder))
    assert code == EXIT_USAGE and "several scripts log a model" in err
    assert "--training-job 'Fetch tickets' or --training-job 'Fit router'" in err
    code, _, err = cli("amp", "import", str(folder), "--training-job", "Deploy")
    assert code == EXIT_USAGE and "no job or session of that name" in err
    code, _, err = cli("amp", "import", str(FIXTURES / "model_only.yaml"))
    assert code == EXIT_USAGE and "runs no job or session (create_model, build_model, deploy_model)" in err


def test_export_then_validate_round_trip_in_a_repository_without_our_scripts(tmp_path: Path, cli):
    repo = spec_repo(tmp_path)
    code, _, err = cli(
        "amp",
        "export",
        str(repo / "specs" / "wine-quality.yaml"),
        "--file",
        str(repo / ".project-metadata.yaml"),
    )
    assert code == 0, err
    code, out, err = cli("-o", "json", "amp", "validate", str(repo))
    assert code == 0 and json.loads(out)["warnings"] == [], err
    tasks = yaml.safe_load((repo / ".project-metadata.yaml").read_text())["tasks"]
    named = [
        t.get("script") or t.get("target_file_path")
        for t in tasks
        if "script" in t or "target_file_path" in t
    ]
    assert named == ["code/install_dependencies.py", "code/02_Experiment_log_model.py", "code/amp/predict.py"]
    assert all((repo / rel).is_file() for rel in named)


def test_a_named_script_the_upload_would_leave_out_is_refused_before_anything_is_written(
    tmp_path: Path, fake: AmpFakeCML, cli
):
    folder = materialise(tmp_path, "prebuilt_flags.yaml")
    (folder / ".gitignore").write_text("code/\n")
    code, _, err = cli("amp", "plan", str(folder))
    assert code == EXIT_USAGE and "names code/1_train.py, which would not be uploaded" in err
    (folder / ".gitignore").unlink()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "add", ".project-metadata.yaml"], check=True)
    code, _, err = cli("amp", "launch", str(folder), "--runtime-id", RUNTIME, "--yes")
    assert code == EXIT_USAGE and "git does not track them" in err and "git add" in err
    assert fake.writes() == []


def test_the_launcher_itself_refuses_before_any_write(
    tmp_path: Path, fake: AmpFakeCML, fake_client: CMLClient
):
    """Callers of the Python API that skip validate get the same refusals, still before a write."""
    inline = tmp_path / "inline"
    inline.mkdir()
    shutil.copy(ERRORS / "inline_code_session.yaml", inline / ".project-metadata.yaml")
    (inline / "train.py").write_text("print('ok')\n")
    ignored = materialise(tmp_path, "prebuilt_flags.yaml")
    (ignored / ".gitignore").write_text("*.py\n")
    for folder, message in ((inline, "inline code cannot be launched"), (ignored, "would not be uploaded")):
        loaded = load_amp(folder)
        options = LaunchOptions(project_name="x", environment={}, runtime_identifier=RUNTIME)
        with pytest.raises(InputError) as raised:
            launch(fake_client, loaded, options)
        assert message in raised.value.message
    assert fake.writes() == []
