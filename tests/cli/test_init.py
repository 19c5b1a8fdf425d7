"""`cmlops init`: a ready project in a new or empty folder; never an overwritten file."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli

REPO = Path(__file__).resolve().parents[2]


def test_init_writes_a_project_that_validates(tmp_path: Path, capsys) -> None:
    project = tmp_path / "new" / "wine"
    code, out, _ = run_cli(capsys, "init", str(project))
    assert code == 0 and f"next: cd {project} && cmlops bootstrap specs/wine-quality.yaml" in out
    for rel in (
        "specs/wine-quality.yaml",
        "requirements.txt",
        "code/02_Experiment_log_model.py",
        "code/install_dependencies.py",
        ".gitignore",
        ".github/workflows/cmlops.yml",
    ):
        assert (project / rel).is_file(), rel
    # the same files as the repo's (the spec less its editor-schema comment, which points into our tree)
    assert (project / "code/wine.py").read_bytes() == (REPO / "code/wine.py").read_bytes()
    assert (project / "requirements.txt").read_bytes() == (REPO / "requirements.txt").read_bytes()
    spec_text = (project / "specs/wine-quality.yaml").read_text()
    assert (
        "yaml-language-server" not in spec_text
        and spec_text in (REPO / "specs/wine-quality.yaml").read_text()
    )
    assert ".cmlops/" in (project / ".gitignore").read_text()
    code, out, err = run_cli(capsys, "validate", str(project / "specs/wine-quality.yaml"))
    assert code == 0, err


def test_init_refuses_to_overwrite_and_changes_nothing(tmp_path: Path, capsys) -> None:
    (tmp_path / "README.md").write_text("mine\n")  # unrelated files are fine
    (tmp_path / "requirements.txt").write_text("numpy\n")
    code, _, err = run_cli(capsys, "init", str(tmp_path))
    assert code == 2
    assert (
        f"error: {tmp_path / 'requirements.txt'} already exists; cmlops init never overwrites a file" in err
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "requirements.txt"]
    assert (tmp_path / "requirements.txt").read_text() == "numpy\n"


def test_init_bad_targets_are_usage_errors(tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("")
    code, _, err = run_cli(capsys, "init", str(tmp_path / "file"))
    assert code == 2 and ("is not a folder" in err or "is a file" in err)
    code, _, err = run_cli(capsys, "init", str(tmp_path / "x"), "--example", "nope")
    assert code == 2 and "--example 'nope'" in err and "wine-quality" in err
    assert not (tmp_path / "x").exists()


def test_init_json(tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "-o", "json", "init", str(tmp_path / "p"))
    data = json.loads(out)
    assert code == 0 and data["spec"] == "specs/wine-quality.yaml" and ".gitignore" in data["files"]
