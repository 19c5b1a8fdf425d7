"""The plan: which API v2 calls each task becomes, what is uploaded, and what is kept secret."""

from __future__ import annotations

import subprocess
from pathlib import Path

from amp_support import REPO, materialise

from automation.amp.files import collect_files, repository_files
from automation.amp.inputs import environment_values, masked, parse_env_pairs
from automation.amp.loader import load_amp
from automation.amp.plan import build_plan

P = "/api/v2/projects"


def test_offline_plan_of_a_multi_task_amp(tmp_path: Path):
    loaded = load_amp(materialise(tmp_path, "churn_sessions.yaml"))
    values, missing = environment_values(loaded.amp)
    plan = build_plan(loaded, project_name="churn", environment=values, files=repository_files(loaded.root))
    assert missing == []
    rows = [(s.index, s.task, s.action) for s in plan.steps]
    assert rows == [
        (None, "project", "create"),
        (None, "files", "upload"),
        (0, "run_session", "run"),
        (1, "run_session", "run"),
        (2, "run_session", "run"),
        (3, "create_model", "create"),
        (4, "build_model", "build"),
        (5, "deploy_model", "deploy"),
        (6, "start_application", "start"),
    ]
    by_task = {s.task: s for s in plan.steps}
    assert by_task["run_session"].calls == [
        f"POST {P}/{{project_id}}/jobs",
        f"POST {P}/{{project_id}}/jobs/{{job_id}}/runs",
        f"GET {P}/{{project_id}}/jobs/{{job_id}}/runs/{{run_id}} (until done)",
    ]
    assert by_task["create_model"].calls == [
        f"POST {P}/{{project_id}}/models",
        f"PATCH {P}/{{project_id}} (environment.SHTM_ACCESS_KEY)",
    ]
    assert by_task["build_model"].calls[0] == f"POST {P}/{{project_id}}/models/{{model_id}}/builds"
    assert by_task["deploy_model"].title == "deploy_model 'telco_churn_model' (1 vCPU, 2 GB, x1)"
    assert by_task["start_application"].calls[0] == f"POST {P}/{{project_id}}/applications"
    assert plan.runtime == {"editor": "PBJ Workbench", "kernel": "Python 3.11", "edition": "Standard"}
    notes = " ".join(plan.notes)
    assert (
        "Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1 are looked up by name" in notes
        and "model_metrics" in notes
        and "examples" in notes
    )


def test_files_come_from_git_in_a_checkout_and_from_the_folder_otherwise(tmp_path: Path):
    for rel in (
        "a.py",
        "sub/b.py",
        "data/big.csv",
        "__pycache__/x.pyc",
        ".cmlops/state.db",
        "sub/data/keep.txt",
        ".env",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    # a folder: everything but the default ignore list (a top-level data/ goes, as in a clone)
    assert collect_files(tmp_path) == ["a.py", "data/big.csv", "sub/b.py", "sub/data/keep.txt"]
    (tmp_path / ".gitignore").write_text("sub/\n")
    found = repository_files(tmp_path)
    assert (found.rule, found.files) == ("folder", [".gitignore", "a.py", "data/big.csv"])
    assert found.left_out == 5  # .env, .cmlops/state.db, __pycache__/x.pyc, sub/b.py, sub/data/keep.txt
    # a git checkout: what git tracks; untracked files are left out (CML clones what is committed)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "a.py", ".gitignore"], check=True)
    tracked = repository_files(tmp_path)
    assert (tracked.rule, tracked.files, tracked.left_out) == ("git", [".gitignore", "a.py"], 4)
    repo_files = collect_files(REPO)
    assert ".project-metadata.yaml" in repo_files and "code/amp/deploy.py" in repo_files
    assert not any(f.startswith((".cmlops/", ".git/")) or "__pycache__" in f for f in repo_files)


def test_env_pairs_and_secret_masking():
    assert parse_env_pairs(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    assert masked(
        {"HF_ACCESS_TOKEN": "hf_abc", "SHTM_ACCESS_KEY": "k", "MODEL_NAME": "m", "API_KEY": ""}
    ) == {
        "HF_ACCESS_TOKEN": "****",
        "SHTM_ACCESS_KEY": "****",
        "MODEL_NAME": "m",
        "API_KEY": "",
    }


def test_plan_to_dict_never_shows_secret_values(tmp_path: Path):
    loaded = load_amp(materialise(tmp_path, "model_only.yaml"))
    values, missing = environment_values(loaded.amp, {"HF_ACCESS_TOKEN": "hf_very_secret"})
    assert missing == []
    plan = build_plan(loaded, project_name="m", environment=values)
    assert "hf_very_secret" not in str(plan.to_dict())
    assert plan.to_dict()["environment"] == {"HF_ACCESS_TOKEN": "****"}
