"""`amp validate`: real AMP shapes pass; each kind of mistake is reported at its task, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from amp_support import ERRORS, FIXTURES, GOOD_FIXTURES, REPO, line_of, materialise

from automation.amp.loader import load_amp, read_amp
from automation.amp.model import BuildModel, CreateJob, CreateModel, DeployModel, StartApplication
from automation.amp.validate import validate_amp
from automation.errors import EXIT_USAGE, SpecError


def test_our_own_project_metadata_validates_without_warnings():
    report = validate_amp(REPO)
    assert report.errors == []
    assert report.warnings == []
    amp = report.loaded.amp
    assert [t.type for t in amp.tasks] == ["create_job", "run_job"] * 3
    scripts = [t.script for t in amp.tasks if isinstance(t, CreateJob)]
    assert scripts == ["code/amp/install.py", "code/02_Experiment_log_model.py", "code/amp/deploy.py"]
    assert {"EXPERIMENT_NAME", "MODEL_NAME", "ENDPOINT_NAME", "CPU", "MEMORY", "REPLICAS"} <= set(
        amp.environment_variables
    )
    assert all(v.description for v in amp.environment_variables.values())
    assert (amp.runtimes[0].editor, amp.runtimes[0].kernel, amp.runtimes[0].edition) == (
        "Workbench",
        "Python 3.10",
        "Standard",
    )


@pytest.mark.parametrize("name", GOOD_FIXTURES)
def test_real_amp_shapes_validate(name: str):
    report = validate_amp(FIXTURES / name, check_files=False)
    assert report.errors == [], [str(e) for e in report.errors]
    assert report.loaded is not None and report.loaded.amp.specification_version == "1.0"


@pytest.mark.parametrize("name", ["churn_sessions.yaml", "flight_jobs.yaml", "rag_studio_apps.yaml"])
def test_fixture_scripts_are_checked_when_present(tmp_path: Path, name: str):
    folder = materialise(tmp_path, name)
    assert validate_amp(folder).errors == []


def test_shapes_are_read_the_way_cml_reads_them():
    flight = load_amp(FIXTURES / "flight_jobs.yaml").amp
    job = flight.tasks[0]
    assert isinstance(job, CreateJob) and job.arguments == "None" and job.argument_text == ""
    build = next(t for t in flight.tasks if isinstance(t, BuildModel))
    assert build.examples[0].request == {"feature": "US,DCA,BOS,1,16"}
    assert build.examples[0].response == 1
    assert flight.environment_variables["USE_PREBUILT_MODEL"].required is True

    legacy = load_amp(FIXTURES / "legacy_engines.yaml").amp
    assert legacy.environment_variables["DEV_MODE"].value == "false"
    assert legacy.runtimes[0].version == "2021.06"  # YAML float kept as the text written
    assert legacy.engine_images[0].tags == ["14"]
    legacy_build = next(t for t in legacy.tasks if isinstance(t, BuildModel))
    assert legacy_build.examples[0].request == {"start": "2021-01-01", "days": 7}  # JSON string parsed
    model = next(t for t in legacy.tasks if isinstance(t, CreateModel))
    assert model.default_resources.vcpu == 1.0 and model.default_resources.memory_gb == 2.0

    rag = load_amp(FIXTURES / "rag_studio_apps.yaml").amp
    apps = [t for t in rag.tasks if isinstance(t, StartApplication)]
    assert [(a.subdomain, a.static_subdomain, a.is_embedded) for a in apps] == [
        ("ragstudio", False, None),
        ("fts", None, True),
    ]
    assert rag.environment_variables["UV_HTTP_TIMEOUT"].required is False

    mistral = load_amp(FIXTURES / "model_only.yaml").amp
    assert mistral.environment_variables["HF_ACCESS_TOKEN"].default is None
    deploy = next(t for t in mistral.tasks if isinstance(t, DeployModel))
    assert deploy.gpu == 1

    no_tasks = load_amp(FIXTURES / "no_tasks.yaml").amp
    assert no_tasks.tasks == [] and no_tasks.date == "2022-05-01"  # an unquoted date stays text


def test_legacy_and_fragile_keys_are_warnings_not_errors():
    report = validate_amp(FIXTURES / "legacy_engines.yaml", check_files=False)
    assert report.errors == []
    messages = {w.field: w.message for w in report.warnings}
    assert "environment_variables.DEV_MODE.default" not in messages  # `false` is read as the text "false"
    assert "legacy" in messages["api_version"]
    assert "legacy" in messages["environment_variables.EIA_API_KEY.prompt_user"]
    assert "pinned runtime version" in messages["runtimes[0].version"]
    assert "legacy engines" in messages["engine_images"]
    path = FIXTURES / "legacy_engines.yaml"
    by_field = {w.field: w for w in report.warnings}
    assert by_field["api_version"].line == line_of(path, "api_version: 1")
    assert by_field["runtimes[0].version"].line == line_of(path, "version: 2021.06")


def test_run_job_resources_and_odd_dates_warn():
    flight = validate_amp(FIXTURES / "flight_jobs.yaml", check_files=False)
    assert any("run_job are not applied" in w.message and w.field == "tasks[1].cpu" for w in flight.warnings)
    mistral = validate_amp(FIXTURES / "model_only.yaml", check_files=False)
    assert any(w.field == "date" and "YYYY-MM-DD" in w.message for w in mistral.warnings)


# --- errors: task index, field, line -----------------------------------------------------------------


def _only_error(path: Path) -> SpecError:
    report = validate_amp(path)
    assert len(report.errors) == 1, [str(e) for e in report.errors]
    error = report.errors[0]
    assert error.file == str(path)
    assert error.exit_code == EXIT_USAGE
    return error


def test_unknown_task_type_names_the_task_and_suggests_the_type():
    path = ERRORS / "unknown_task_type.yaml"
    error = _only_error(path)
    assert error.field == "tasks[1].type"
    assert error.line == line_of(path, "type: run_jobs")
    assert "unknown task type 'run_jobs' in task 1" in error.message
    assert "did you mean 'run_job'?" in error.hint


def test_unknown_field_is_reported_at_its_key_with_a_suggestion():
    path = ERRORS / "unknown_field.yaml"
    report = validate_amp(path)
    unknown = next(w for w in report.warnings if "unknown field" in w.message)
    assert unknown.field == "tasks[0].scirpt"
    assert (unknown.line, unknown.column) == (line_of(path, "scirpt:"), 5)
    assert "in task 0 (create_job)" in unknown.message and "did you mean 'script'?" in unknown.message
    # the required 'script' is then missing: reported at the start of the task, naming the misspelling
    missing = _only_error(path)
    assert "missing required field 'script'" in missing.message
    assert missing.line == line_of(path, "- type: create_job")
    assert missing.hint == f"'scirpt' (line {line_of(path, 'scirpt:')}) looks like a misspelling of 'script'"
    strict = validate_amp(path, strict=True)
    assert [e.field for e in strict.errors] == ["tasks[0].script", "tasks[0].scirpt"]
    assert "--strict" in strict.errors[1].hint


def test_a_misspelt_top_level_key_is_a_warning_with_a_suggestion_and_an_error_under_strict():
    path = ERRORS / "bad_top_level.yaml"
    report = validate_amp(path)
    assert report.errors == []
    warning = next(w for w in report.warnings if w.field == "enviroment_variables")
    assert warning.line == line_of(path, "enviroment_variables:")
    assert "did you mean 'environment_variables'?" in warning.message and "CML ignores it" in warning.message
    error = validate_amp(path, strict=True).errors[0]
    assert error.field == "enviroment_variables" and "did you mean 'environment_variables'?" in error.hint


def test_a_task_without_type_is_located():
    path = ERRORS / "missing_type.yaml"
    error = _only_error(path)
    assert error.field == "tasks[0].type"
    assert error.line == line_of(path, "- name: Train")
    assert "missing required field 'type'" in error.message


def test_an_entity_label_never_created_is_caught_with_a_suggestion():
    path = ERRORS / "missing_label.yaml"
    error = _only_error(path)
    assert error.field == "tasks[1].entity_label"
    assert error.line == line_of(path, "entity_label: train_modle")
    assert "'train_modle', which no create_job task creates" in error.message
    assert "did you mean 'train_model'?" in error.hint


def test_deploy_before_build_is_caught():
    path = ERRORS / "deploy_before_build.yaml"
    error = _only_error(path)
    assert error.field == "tasks[1].entity_label"
    assert error.line == line_of(path, "- type: deploy_model") + 1
    assert "deploys model 'model' before any build_model built it" in error.message


def test_a_label_used_before_the_task_that_creates_it(tmp_path: Path):
    (tmp_path / "train.py").write_text("")
    (tmp_path / ".project-metadata.yaml").write_text(
        "name: n\ndescription: d\nauthor: a\nspecification_version: 1.0\nprototype_version: 1.0\ntasks:\n"
        "  - type: run_job\n    entity_label: later\n"
        "  - type: create_job\n    name: Later\n    entity_label: later\n    script: train.py\n"
    )
    error = _only_error(tmp_path / ".project-metadata.yaml")
    assert "task 0 (run_job) uses entity_label 'later' before task 1 (create_job) creates it" in error.message
    assert (error.field, error.line) == ("tasks[0].entity_label", 8)


def test_a_missing_script_is_caught():
    path = ERRORS / "missing_script.yaml"
    error = _only_error(path)
    assert error.field == "tasks[0].script"
    assert error.line == line_of(path, "script: code/does_not_exist.py")
    assert "'code/does_not_exist.py' does not exist" in error.message
    assert validate_amp(path, check_files=False).errors == []


def test_scripts_outside_the_repo_are_refused(tmp_path: Path):
    (tmp_path / ".project-metadata.yaml").write_text(
        "name: n\ndescription: d\nauthor: a\nspecification_version: 1.0\nprototype_version: 1.0\ntasks:\n"
        "  - type: run_session\n    name: s\n    script: ../escape.py\n"
    )
    error = validate_amp(tmp_path).errors[0]
    assert error.field == "tasks[0].script" and "'..'" in error.message


def test_bad_yaml_is_reported_at_its_line():
    path = ERRORS / "bad_yaml.yaml"
    error = _only_error(path)
    assert error.message.startswith(f"{path}:{line_of(path, '  script: train.py')}")
    assert "invalid YAML" in error.message


def test_empty_file_missing_file_and_folder_without_amp(tmp_path: Path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert "the AMP file is empty" in _only_error(empty).message
    assert "AMP file not found" in read_amp(tmp_path / "nope.yaml").errors[0].message
    assert "no .project-metadata.yaml in this folder" in read_amp(tmp_path).errors[0].message


def test_all_problems_are_collected_in_file_order(tmp_path: Path):
    path = tmp_path / "many.yaml"
    path.write_text(
        "name: n\ndescription: d\nauthor: a\nspecification_version: 1.0\nprototype_version: 1.0\ntasks:\n"
        "  - type: create_jb\n"
        "  - type: run_session\n    name: s\n    script: s.py\n    cpu: lots\n"
        "  - 5\n"
    )
    errors = read_amp(path).errors
    assert [(e.field, e.line) for e in errors] == [
        ("tasks[0].type", 7),
        ("tasks[1].cpu", 11),
        ("tasks[2]", 12),
    ]
    with pytest.raises(SpecError) as raised:
        load_amp(path)
    assert "2 more problems after this one" in raised.value.hint
