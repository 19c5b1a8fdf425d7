"""Version 1 files keep working: the loader converts them to the v2 shape, and `migrate_text` rewrites
their text as v2 with comments kept; both give equal specs, so a v1 file and its migration plan alike."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from spec_support import FILE, MINIMAL

from automation.errors import SpecError
from automation.spec import load_spec, parse_spec, spec_json_schema
from automation.spec.migrate import migrate_text

INSTALL = "  install:\n    name: deps\n    script: code/deps.py\n"


def _migrated(text: str) -> str:
    return migrate_text(text, FILE)


def test_v1_is_read_in_the_v2_shape(parse):
    spec = parse(MINIMAL.replace("training:\n", "training:\n" + INSTALL))
    assert spec.version == 2 and spec.source_version == 1
    assert list(spec.jobs) == ["deps", "train"]
    assert spec.jobs["train"].after == "deps"  # the install step becomes the training job's CML parent
    assert spec.jobs["deps"].timeout == 900  # v1's install default, not a v2 job's 1800
    model = spec.model_named()
    assert (model.registered_name, model.job, model.experiment) == ("demo-model", "train", "demo-exp")
    assert model.endpoint.model_name == "demo-endpoint"


@pytest.mark.parametrize(
    "text",
    [MINIMAL, MINIMAL.replace("training:\n", "training:\n" + INSTALL)],
    ids=["no-install", "install"],
)
def test_minimal_v1_and_its_migration_are_equal(parse, text):
    v1 = parse(text)
    migrated = _migrated(text)
    v2 = parse(migrated)
    assert yaml.safe_load(migrated)["version"] == 2 and v2.source_version == 2
    assert v1 == v2
    assert v1.model_dump() == v2.model_dump()
    assert ("after" in migrated) == ("install" in text)


def test_flagship_v1_migrates_to_an_equal_spec_with_its_comments(v1_flagship_path: Path):
    text = v1_flagship_path.read_text(encoding="utf-8")
    migrated = _migrated(text)
    v1 = load_spec(v1_flagship_path, environ={})
    v2 = parse_spec(migrated, file="migrated.yaml", environ={})
    assert v1.source_version == 1 and v2.source_version == 2
    assert v1 == v2
    # v1 and v2 plan alike only if nothing else differs either: targets with their secrets, timeouts
    env = {"CML_URL": "https://ml.example.com", "CML_API_KEY": "k-1"}
    assert load_spec(v1_flagship_path, environ=env) == parse_spec(migrated, environ=env)
    assert migrated.startswith("# yaml-language-server: $schema=")
    for comment in (
        "# Where the spec is applied, chosen with --target (default: local).",  # top-level
        "# The dependency step, as CML users do it",  # above the install step (moved)
        "# Training: a CML job in the DEV project.",  # above training: (now jobs:)
        "# The PRD model endpoint: a CML model in the PRD project",  # above deployment: (now endpoint:)
        "# vCPUs",  # end-of-line, inside a moved job
        "# every bound must hold, or promote stops (exit code 6)",
    ):
        assert comment in migrated, comment
    lines = migrated.splitlines()
    # moved comments follow their keys' new indentation
    assert (
        "    # The PRD model endpoint: a CML model in the PRD project, built from the registered version"
        in lines
    )
    assert any(line.startswith("      # After deploying, cmlops POSTs") for line in lines)
    assert "    artifact_path: model              # where the run logged the MLflow model" in lines
    assert "ca_bundle: null" in migrated and "training:" not in migrated
    jsonschema.Draft202012Validator(spec_json_schema()).validate(yaml.safe_load(migrated))


def test_errors_in_a_v1_file_keep_v1_lines(spec_error):
    err = spec_error(
        MINIMAL.replace("  model_name: demo-endpoint\n", "  model_name: demo-endpoint\n  cpu: 0\n")
    )
    assert (err.line, err.field) == (19, "deployment.cpu")  # v1 names: the v1 model validated first


def test_positions_follow_the_conversion(parse):
    spec = parse(MINIMAL.replace("training:\n", "training:\n" + INSTALL))
    lines = MINIMAL.replace("training:\n", "training:\n" + INSTALL).splitlines()

    def at(*path: str | int) -> str:
        return lines[spec.locate(tuple(path))[0] - 1].strip()

    assert at("jobs", "train", "script") == "script: code/train.py"
    assert at("jobs", "deps", "script") == "script: code/deps.py"
    assert at("models", "demo-model", "endpoint", "model_name") == "model_name: demo-endpoint"
    assert at("models", "demo-model", "experiment") == "experiment: demo-exp"
    assert at("models", "demo-model", "job") == "name: train"
    # the parent a v1 training job gets is the install step: errors about it point there
    assert lines[spec.locate(("jobs", "train", "after"), key=True)[0] - 1].strip() == "install:"


def test_a_referenced_name_cannot_be_migrated():
    text = MINIMAL.replace("    name: train\n", "    name: ${JOB:-train}\n")
    with pytest.raises(SpecError, match="uses a"):
        _migrated(text)


def test_the_reconcile_suites_v1_spec_migrates_to_an_equal_spec(repo_root: Path):
    path = repo_root / "tests" / "reconcile" / "spec-wine-test.yaml"
    v1 = load_spec(path, environ={})
    v2 = parse_spec(_migrated(path.read_text(encoding="utf-8")), file=str(path), environ={})
    assert (v1.source_version, v2.source_version) == (1, 2) and v1 == v2
