"""`cmlops migrate` and what `cmlops validate` says about a version 1 spec (offline: no workspace)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from cli_support import run_cli

from automation.errors import EXIT_USAGE
from automation.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
V1 = REPO / "tests" / "fixtures" / "specs" / "wine-quality-v1.yaml"


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    """The v1 flagship inside a throwaway repo root (its scripts copied, so files check too)."""
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copytree(REPO / "code", tmp_path / "code", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / "specs").mkdir()
    target = tmp_path / "specs" / "old.yaml"
    shutil.copy(V1, target)
    return target


def test_validate_a_v1_file_says_how_to_migrate(capsys, v1_copy: Path) -> None:
    code, out, _ = run_cli(capsys, "validate", str(v1_copy))
    assert code == 0 and "valid" in out
    assert f"cmlops migrate {v1_copy} --in-place" in out and "version 1" in out
    code, out, _ = run_cli(capsys, "-o", "json", "validate", str(v1_copy))
    data = json.loads(out)
    assert code == 0 and data["version"] == 1 and "cmlops migrate" in data["note"]


def test_validate_a_v2_file_has_no_note(capsys) -> None:
    code, out, _ = run_cli(capsys, "-o", "json", "validate", str(REPO / "specs" / "wine-quality.yaml"))
    data = json.loads(out)
    assert code == 0 and data["version"] == 2 and "note" not in data


def test_migrate_prints_the_v2_spec(capsys, v1_copy: Path) -> None:
    before = v1_copy.read_text()
    code, out, _ = run_cli(capsys, "migrate", str(v1_copy))
    assert code == 0 and yaml.safe_load(out)["version"] == 2
    assert "# The dependency step, as CML users do it" in out  # comments kept
    assert v1_copy.read_text() == before  # nothing written


def test_migrate_in_place_then_validate(capsys, v1_copy: Path) -> None:
    original = load_spec(v1_copy)
    code, out, _ = run_cli(capsys, "migrate", str(v1_copy), "--in-place")
    assert code == 0 and "written as spec version 2" in out
    migrated = load_spec(v1_copy)
    assert migrated.source_version == 2 and migrated == original
    assert list(v1_copy.parent.iterdir()) == [v1_copy]  # no temporary file left
    code, out, _ = run_cli(capsys, "validate", str(v1_copy))
    assert code == 0 and "cmlops migrate" not in out
    code, _, err = run_cli(capsys, "migrate", str(v1_copy))
    assert code == EXIT_USAGE and "already a version 2 spec" in err


def test_migrate_out_writes_another_file(capsys, v1_copy: Path) -> None:
    out_path = v1_copy.with_name("new.yaml")
    code, _, _ = run_cli(capsys, "-o", "json", "migrate", str(v1_copy), "--out", str(out_path))
    assert code == 0 and load_spec(out_path) == load_spec(v1_copy)
    assert load_spec(v1_copy).source_version == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--in-place", "--out", "x.yaml"], "give one of them"),
        (["--out", "no/such/folder/x.yaml"], "does not exist"),
    ],
)
def test_migrate_refuses_bad_flags_and_changes_nothing(capsys, v1_copy: Path, extra, message) -> None:
    before = v1_copy.read_text()
    code, _, err = run_cli(capsys, "migrate", str(v1_copy), *extra)
    assert code == EXIT_USAGE and message in err
    assert v1_copy.read_text() == before


def test_migrate_an_invalid_v1_file_reports_its_line(capsys, v1_copy: Path) -> None:
    v1_copy.write_text(v1_copy.read_text().replace("  replicas: 1 ", "  replicas: 0 "))
    code, _, err = run_cli(capsys, "migrate", str(v1_copy))
    assert code == EXIT_USAGE and "old.yaml:" in err and "deployment.replicas" in err
