"""Repo root discovery and check_files: named files exist and stay inside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_support import MINIMAL, MINIMAL_V2

from automation.errors import SpecError
from automation.spec import check_files, find_repo_root, load_spec, parse_spec, source_files
from automation.spec.paths import check_relative_path


def _repo(tmp_path: Path, spec_text: str = MINIMAL) -> Path:
    """A throwaway repo: pyproject marker, code/train.py, code/util.py and specs/demo.yaml."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "train.py").write_text("print('train')\n")
    (tmp_path / "code" / "util.py").write_text("\n")
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "demo.yaml"
    spec.write_text(spec_text)
    return spec


def test_repo_root_is_the_folder_with_the_marker(tmp_path):
    spec_path = _repo(tmp_path)
    spec = load_spec(spec_path, environ={})
    assert spec.repo_root == tmp_path.resolve() == find_repo_root(spec_path)


def test_outside_a_repo_the_root_is_the_spec_folder_or_above_specs(tmp_path):
    deep = tmp_path / "a" / "b"
    (deep / "specs").mkdir(parents=True)
    (deep / "s.yaml").write_text("")
    (deep / "specs" / "s.yaml").write_text("")
    if any((p / ".git").exists() or (p / "pyproject.toml").exists() for p in deep.resolve().parents):
        pytest.fail("the temporary folder sits inside a repo; cannot test the fallback")
    assert find_repo_root(deep / "s.yaml") == deep.resolve()  # not the folder above it
    assert find_repo_root(deep / "specs" / "s.yaml") == deep.resolve()  # cmlops init's layout


def test_check_files_returns_the_upload_list(tmp_path):
    spec = load_spec(_repo(tmp_path), environ={})
    assert check_files(spec) == ["code/train.py", "code/util.py"]


def test_missing_job_script(tmp_path):
    spec = load_spec(_repo(tmp_path, MINIMAL.replace("code/train.py", "code/nope.py")), environ={})
    with pytest.raises(SpecError) as caught:
        check_files(spec)
    err = caught.value
    assert (err.line, err.column, err.field) == (14, 13, "training.job.script")  # as the v1 file writes it
    assert err.file.endswith("demo.yaml") and "does not exist" in err.message


def test_missing_job_script_of_a_v2_file_names_the_v2_field(tmp_path):
    spec_path = _repo(tmp_path, MINIMAL_V2.replace("code/train.py", "code/nope.py"))
    for other in ("setup.py", "app.py"):
        (tmp_path / "code" / other).write_text("\n")
    spec = load_spec(spec_path, environ={})
    with pytest.raises(SpecError) as caught:
        check_files(spec)
    line = MINIMAL_V2.splitlines().index("    script: code/train.py") + 1
    assert (caught.value.line, caught.value.field) == (line, "jobs.train.script")


@pytest.mark.parametrize(
    ("v2_path", "v1_name"),
    [
        (("jobs", "train", "script"), "training.job.script"),
        (("jobs", "train", "cpu"), "training.job.cpu"),  # not written: its written parent, then the field
        (("jobs", "train"), "training.job"),
        (("jobs",), "training"),
        (("models", "demo-model", "job"), "training.job.name"),
        (("models", "demo-model", "experiment"), "training.experiment"),
        (("models", "demo-model", "select", "metric"), "model.select.metric"),
        (("models", "demo-model", "endpoint", "cpu"), "deployment.cpu"),
        (("models", "demo-model"), "model"),
        (("projects", "dev", "name"), "projects.dev.name"),
        (("timeouts", "build"), "timeouts.build"),
    ],
)
def test_a_v1_files_fields_are_named_as_it_writes_them(v2_path, v1_name):
    spec = parse_spec(MINIMAL, file="demo.yaml", environ={})
    assert spec.written_name(v2_path) == v1_name
    assert parse_spec(MINIMAL_V2, file="demo.yaml", environ={}).written_name(v2_path) == ".".join(v2_path)


def test_glob_matching_nothing(tmp_path):
    spec = load_spec(
        _repo(tmp_path, MINIMAL.replace('["code/*.py"]', '["code/*.py", "req.txt"]')), environ={}
    )
    with pytest.raises(SpecError) as caught:
        check_files(spec)
    assert (caught.value.line, caught.value.column, caught.value.field) == (
        7,
        28,
        "projects.dev.source.files[1]",
    )
    assert "matches no file" in caught.value.message


def test_job_script_must_be_uploaded(tmp_path):
    spec_path = _repo(tmp_path, MINIMAL.replace('["code/*.py"]', '["code/util.py"]'))
    with pytest.raises(SpecError) as caught:
        check_files(load_spec(spec_path, environ={}))
    assert "not among the uploaded files" in caught.value.message
    assert (caught.value.line, caught.value.column) == (7, 7)


def test_folder_glob_uploads_its_files_but_not_caches(tmp_path):
    spec_path = _repo(tmp_path, MINIMAL.replace('["code/*.py"]', '["code"]'))
    (tmp_path / "code" / "__pycache__").mkdir()
    (tmp_path / "code" / "__pycache__" / "x.pyc").write_bytes(b"")
    assert source_files(load_spec(spec_path, environ={})) == ["code/train.py", "code/util.py"]


def test_symlink_leaving_the_repo_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("x = 1\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    spec_path = _repo(repo, MINIMAL.replace("code/train.py", "code/link.py"))
    (repo / "code" / "link.py").symlink_to(outside / "secret.py")
    with pytest.raises(SpecError, match="leads outside the repo") as caught:
        check_files(load_spec(spec_path, environ={}))
    assert caught.value.field == "training.job.script"


def test_git_source_uploads_nothing(tmp_path):
    text = MINIMAL.replace('files: ["code/*.py"]', "git_url: git@github.com:me/demo.git\n      git_ref: main")
    spec = load_spec(_repo(tmp_path, text), environ={})
    assert spec.projects.dev.source.git_ref == "main"
    assert check_files(spec) == []


def test_missing_ca_bundle(tmp_path):
    text = MINIMAL + "targets:\n  cml:\n    kind: cml\n    ca_bundle: certs/ca.pem\n"
    spec = load_spec(_repo(tmp_path, text), environ={})
    with pytest.raises(SpecError, match="CA bundle") as caught:
        check_files(spec)
    assert caught.value.line == 22


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("../x.py", "'..'"),
        ("a/../../x.py", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:/x.py", "absolute"),
        ("~/x.py", "'~'"),
        ("a\\b.py", "'\\'"),
        ("", "empty"),
        (".", "repo root itself"),
        ("a\x00b", "NUL"),
        ("code/*.py", "glob character"),
    ],
)
def test_refused_paths(value, problem):
    with pytest.raises(ValueError) as caught:
        check_relative_path(value, what="script")
    assert problem in str(caught.value)


def test_accepted_paths_are_normalised():
    assert check_relative_path("./code//train.py") == "code/train.py"
    assert check_relative_path("a..b/c.py") == "a..b/c.py"
    assert check_relative_path("code/**/*.py", allow_glob=True) == "code/**/*.py"
    with pytest.raises(ValueError, match="whole folder component"):
        check_relative_path("code/***.py", allow_glob=True)
