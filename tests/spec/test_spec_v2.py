"""Spec version 2: jobs with after/schedule, applications, several models, per-target overrides, and
every cross-section error located at the line that is wrong."""

from __future__ import annotations

import pytest
from spec_support import MINIMAL_V2

from automation.errors import SpecError
from automation.spec import MASK


def _line(text: str, number: int) -> str:
    return text.splitlines()[number - 1]


def test_v2_loads_with_its_sections(parse):
    spec = parse(MINIMAL_V2)
    assert spec.version == 2 and spec.source_version == 2
    assert list(spec.jobs) == ["setup", "train", "nightly"]  # file order
    assert spec.jobs["train"].after == "setup" and spec.jobs["train"].schedule is None
    nightly = spec.jobs["nightly"].schedule
    assert (nightly.cron, nightly.timezone) == ("0 2 * * *", "Europe/Paris")
    assert spec.jobs["setup"].timeout == 600 and spec.jobs["train"].timeout == 1800
    board = spec.applications["board"]
    assert (board.project, board.subdomain, board.bypass_authentication) == ("dev", "demo-board", False)
    assert [m.registered_name for m in spec.models.values()] == ["demo-model", "other-model"]
    assert spec.runtime_of(spec.jobs["train"]) is spec.runtime


def test_ancestors_and_chain_timeout(parse):
    text = MINIMAL_V2.replace(
        '    schedule: {cron: "0 2 * * *", timezone: Europe/Paris}\n', "    after: train\n"
    )
    spec = parse(text)
    assert spec.ancestors("nightly") == ["setup", "train"]
    assert spec.ancestors("setup") == []
    # the wait for a model's run started at the chain's root covers every job of the chain
    assert spec.job_timeout("nightly") == 600 + 1800 + 1800
    assert spec.job_timeout("setup") == spec.timeouts.job_run == 1800


def test_model_named(parse):
    spec = parse(MINIMAL_V2)
    assert spec.model_named("other-model").job == "nightly"
    with pytest.raises(SpecError) as caught:
        spec.model_named(None)
    assert "several models" in caught.value.message
    assert "demo-model, other-model" in caught.value.hint and "--model NAME" in caught.value.hint
    with pytest.raises(SpecError) as caught:
        spec.model_named("demo-modle")
    assert "unknown model 'demo-modle'" in caught.value.message
    assert "did you mean 'demo-model'?" in caught.value.hint


def test_for_target_merges_the_overrides(parse):
    spec = parse(MINIMAL_V2)
    cml = spec.for_target("cml")
    assert cml.projects.prd.name == "demo-prd-cml" and cml.projects.dev.name == "demo-dev"
    assert cml.jobs["train"].cpu == 4 and cml.jobs["train"].memory == spec.jobs["train"].memory
    assert cml.jobs["train"].environment == {"A": "1", "B": "cml"}  # merged key by key
    assert cml.applications["board"].memory == 4
    assert cml.models["demo-model"].endpoint.replicas == 3
    assert cml.models["other-model"] == spec.models["other-model"]
    assert cml.models["demo-model"].registered_name == "demo-model"
    # the original is untouched, and carries its file and positions into the merged spec
    assert spec.jobs["train"].cpu == 1 and spec.projects.prd.name == "demo-prd"
    assert cml.source_version == 2 and cml.locate(("jobs", "train")) == spec.locate(("jobs", "train"))
    assert spec.for_target("local") is spec


def test_override_secrets_stay_masked_after_the_merge(parse):
    text = MINIMAL_V2.replace('environment: {B: "cml"}', "environment: {B: '${env:TOKEN}'}")
    cml = parse(text, {"TOKEN": "tok-987654"}).for_target("cml")
    assert cml.jobs["train"].environment["B"] == "tok-987654"
    assert cml.model_dump_public()["jobs"]["train"]["environment"]["B"] == MASK
    assert "tok-987654" not in repr(cml) and "tok-987654" in cml.secret_values()


def _broken(old: str, new: str) -> str:
    assert old in MINIMAL_V2, old
    return MINIMAL_V2.replace(old, new, 1)


ERRORS = [
    # (id, text, line, field, message part, hint part)
    (
        "unknown parent",
        _broken("after: setup", "after: setpu"),
        24,
        "jobs.train.after",
        "unknown job 'setpu'",
        "did you mean 'setup'?",
    ),
    (
        "self cycle",
        _broken("after: setup", "after: train"),
        24,
        "jobs.train.after",
        "cycle: train -> train",
        "must have no after",
    ),
    (
        "two-job cycle",
        _broken("    timeout: 600\n", "    timeout: 600\n    after: train\n"),
        22,
        "jobs.setup.after",
        "cycle: setup -> train -> setup",
        None,
    ),
    (
        "after and schedule",
        _broken("    after: setup\n", "    after: setup\n    schedule: {cron: '0 1 * * *'}\n"),
        22,
        "jobs.train",
        "either after",
        None,
    ),
    ("bad cron", _broken('cron: "0 2 * * *"', 'cron: "0 25 * * *"'), 28, "jobs.nightly.schedule.cron", "cron", None),
    ("six-field cron", _broken('cron: "0 2 * * *"', 'cron: "0 0 2 * * *"'), 28, "jobs.nightly.schedule.cron", "five-field", None),
    (
        "unknown timezone",
        _broken("timezone: Europe/Paris", "timezone: Europe/Pariss"),
        28,
        "jobs.nightly.schedule.timezone",
        "unknown time zone",
        None,
    ),
    ("unknown model job", _broken("    job: nightly\n", "    job: nighty\n"), 40, "models.other-model.job", "unknown job 'nighty'", "did you mean 'nightly'?"),
    (
        "same endpoint twice",
        _broken("model_name: other-endpoint", "model_name: demo-endpoint"),
        43,
        "models.other-model.endpoint.model_name",
        "both use the endpoint 'demo-endpoint'",
        None,
    ),
    (
        "same subdomain twice",
        _broken("applications:\n", "applications:\n  first:\n    script: code/a.py\n    subdomain: demo-board\n"),
        35,
        "applications.board.subdomain",
        "both use the subdomain 'demo-board'",
        None,
    ),
    ("bad subdomain", _broken("subdomain: demo-board", "subdomain: Demo_Board"), 32, "applications.board.subdomain", "subdomain", None),
    ("unknown app project", _broken("    subdomain: demo-board\n", "    subdomain: demo-board\n    project: staging\n"), 33, "applications.board.project", "expected one of: dev, prd", None),
    ("override unknown job", _broken("jobs: {train: {cpu: 4", "jobs: {trian: {cpu: 4"), 8, "targets.cml.overrides.jobs.trian", "unknown job 'trian'", "did you mean 'train'?"),
    ("override unknown app", _broken("applications: {board:", "applications: {bored:"), 9, "targets.cml.overrides.applications.bored", "unknown application 'bored'", None),
    ("override unknown model", _broken("models: {demo-model: {endpoint", "models: {demo: {endpoint"), 10, "targets.cml.overrides.models.demo", "unknown model 'demo'", None),
    ("override unknown project", _broken("projects: {prd: {name", "projects: {prod: {name"), 7, "targets.cml.overrides.projects.prod", "unknown key 'prod'", "did you mean 'prd'?"),
    ("override a script", _broken("jobs: {train: {cpu: 4,", "jobs: {train: {script: x.py, cpu: 4,"), 8, "targets.cml.overrides.jobs.train.script", "unknown key 'script'", None),
    ("no models", MINIMAL_V2[: MINIMAL_V2.index("\nmodels:") + 1] + "models: {}\n", 33, "models", "at least one registered model", None),
    ("missing models", MINIMAL_V2[: MINIMAL_V2.index("\nmodels:") + 1], 1, "models", "missing required key 'models'", None),
    ("duplicate job", _broken("  nightly:\n", "  train:\n    script: code/x.py\n  nightly:\n"), 26, None, "duplicate key 'train'", None),
    ("v1 section", MINIMAL_V2 + "deployment:\n  model_name: x\n", 44, "deployment", "version 1 section", "cmlops migrate"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "field", "message", "hint"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_v2_errors_are_located(spec_error, text, line, field, message, hint):
    err = spec_error(text)
    assert err.line == line, f"{err} (line {err.line}: {_line(text, err.line)!r})"
    if field is not None:
        assert err.field == field, str(err)
    assert message in err.message, str(err)
    if hint is not None:
        assert hint in (err.hint or ""), str(err)


def test_cycle_of_three_is_named_in_run_order(spec_error):
    text = _broken("    timeout: 600\n", "    timeout: 600\n    after: nightly\n")
    text = text.replace('    schedule: {cron: "0 2 * * *", timezone: Europe/Paris}\n', "    after: train\n")
    err = spec_error(text)
    assert "setup -> train -> nightly -> setup" in err.message and err.field == "jobs.setup.after"


def test_job_and_application_may_share_a_name(parse):
    spec = parse(MINIMAL_V2.replace("  board:", "  train:").replace("{board:", "{train:"))
    assert "train" in spec.jobs and "train" in spec.applications


@pytest.mark.parametrize(
    ("old", "new", "word"),
    [
        ("after: setup", "after: setpu", "setpu"),
        ("    job: nightly\n", "    job: nighty\n", "nighty"),
        ("jobs: {train: {cpu: 4", "jobs: {trian: {cpu: 4", "trian"),
        ("models: {demo-model: {endpoint", "models: {demo: {endpoint", "demo:"),
    ],
    ids=[
        "after names a value",
        "model job names a value",
        "override job is a key",
        "override model is a key",
    ],
)
def test_an_unknown_name_is_pointed_at_where_it_is_written(spec_error, old, new, word):
    """The error's column is the unknown name's: the value of ``after`` or ``job``, the key of an
    override (whose value, a mapping, starts further right)."""
    text = _broken(old, new)
    err = spec_error(text)
    assert err.column == _line(text, err.line).index(word) + 1, str(err)


def test_a_runtime_section_is_read_as_written(parse):
    text = MINIMAL_V2.replace(
        "projects:\n", "runtime:\n  editor: JupyterLab\n  kernel: Python 3.11\nprojects:\n", 1
    )
    runtime = parse(text).runtime
    assert (runtime.editor, runtime.kernel, runtime.edition, runtime.identifier) == (
        "JupyterLab",
        "Python 3.11",
        "Standard",
        None,
    )


def test_secrets_are_masked_in_repr_wherever_they_sit(parse):
    text = (
        MINIMAL_V2.replace("    kind: cml\n", "    kind: cml\n    api_key: ${env:KEY}\n", 1)
        .replace('environment: {A: "1", B: "2"}', "environment: {A: '1', B: '${env:TOKEN}'}")
        .replace("projects:\n", "runtime:\n  addons: ['${env:ADDON}']\nprojects:\n", 1)
        .replace("      model_name: demo-endpoint\n", "      model_name: demo-endpoint\n      smoke:\n"
                 "        input: {rows: [{a: '${env:ROW}'}]}\n")
    )  # fmt: skip
    secrets = {"KEY": "key-111111", "TOKEN": "tok-222222", "ADDON": "addon-333333", "ROW": "row-444444"}
    spec = parse(text, secrets)
    shown = repr(spec)
    assert not [value for value in secrets.values() if value in shown]
    assert "'A': '1'" in repr(spec.jobs["train"]) and f"'B': '{MASK}'" in repr(spec.jobs["train"])
    assert f"addons='{MASK}'" in repr(spec.runtime)  # a list with a secret item: the whole list
    assert f"input='{MASK}'" in repr(spec.models["demo-model"].endpoint.smoke)
    assert f"api_key='{MASK}'" in repr(spec.targets["cml"])
    assert spec.runtime.addons == ["addon-333333"]  # masked when shown, never changed
    assert sorted(spec.secret_values()) == sorted(secrets.values())  # for the output filters


def test_locate_gives_a_values_column_and_with_key_its_keys():
    from spec_support import FILE

    from automation.spec import parse_spec

    spec = parse_spec(MINIMAL_V2, file=FILE, environ={})
    line = MINIMAL_V2.splitlines().index("    script: code/train.py") + 1
    assert spec.locate(("jobs", "train", "script")) == (line, 13)
    assert spec.locate(("jobs", "train", "script"), key=True) == (line, 5)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://github.com/a/b", "must be an https://, ssh:// or git@host:path URL"),
        ("https:///a/b", "must be an https://, ssh:// or git@host:path URL"),
        ("github.com/a/b", "must be an https://, ssh:// or git@host:path URL"),
        ("https://github.com:99999/a/b", "malformed"),
    ],
    ids=["ftp", "no host", "no scheme", "bad port"],
)
def test_a_git_url_cml_cannot_clone_is_refused(spec_error, url, message):
    text = MINIMAL_V2.replace('files: ["code/*.py"]', f"git_url: '{url}'")
    err = spec_error(text)
    assert err.field == "projects.dev.source.git_url" and message in err.message, str(err)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_smoke_input_that_is_not_plain_json_is_refused(spec_error, value):
    text = MINIMAL_V2.replace(
        "      model_name: demo-endpoint\n",
        f"      model_name: demo-endpoint\n      smoke:\n        input: {{rows: [[1.0, {value}]]}}\n",
    )
    err = spec_error(text)
    assert "input must be plain JSON (no NaN or infinity)" in err.message, str(err)


def _gate_and_expect(low: float, high: float) -> str:
    return MINIMAL_V2.replace(
        "      model_name: demo-endpoint\n",
        "      model_name: demo-endpoint\n      smoke:\n        input: {rows: [[1.0]]}\n"
        f"        expect: {{min: {low}, max: {high}}}\n",
    ).replace(
        "    experiment: demo-exp\n",
        f"    experiment: demo-exp\n    gates:\n      thresholds:\n        - {{metric: r2, min: {low}, max: {high}}}\n",
        1,
    )


@pytest.mark.parametrize(("low", "high"), [(0.5, 0.5), (0.25, 0.75)], ids=["equal", "ordered"])
def test_a_gate_and_a_smoke_expectation_take_min_up_to_max(parse, low, high):
    model = parse(_gate_and_expect(low, high)).models["demo-model"]
    threshold, expect = model.gates.thresholds[0], model.endpoint.smoke.expect
    assert (threshold.min, threshold.max, expect.min, expect.max) == (low, high, low, high)


def test_a_gate_with_min_above_max_is_refused(spec_error):
    text = _gate_and_expect(0.5, 0.5).replace(
        "{metric: r2, min: 0.5, max: 0.5}", "{metric: r2, min: 0.75, max: 0.5}"
    )
    err = spec_error(text)
    assert (
        err.field.startswith("models.demo-model.gates.thresholds")
        and "min is greater than max" in err.message
    )


def test_a_smoke_expectation_with_min_above_max_is_refused(spec_error):
    err = spec_error(
        _gate_and_expect(0.5, 0.5).replace("expect: {min: 0.5, max: 0.5}", "expect: {min: 0.75, max: 0.5}")
    )
    assert (
        err.field.startswith("models.demo-model.endpoint.smoke.expect")
        and "min is greater than max" in err.message
    )


def test_a_spec_built_in_code_is_version_2_and_located_at_the_start():
    import yaml

    from automation.spec import Spec

    spec = Spec.model_validate(yaml.safe_load(MINIMAL_V2))
    assert spec.source_version == 2
    assert spec.locate(("jobs", "train", "script")) == (1, 1) == spec.locate(("jobs",), key=True)


def test_an_optional_secret_left_empty_is_no_secret_value(parse):
    text = MINIMAL_V2.replace("    kind: cml\n", "    kind: cml\n    api_key: ${env:KEY:-}\n", 1)
    assert parse(text, {}).secret_values() == []
    assert parse(text, {"KEY": "key-555555"}).secret_values() == ["key-555555"]
    # an empty environment value stays "" (an output filter must never be given "")
    empty_env = MINIMAL_V2.replace(
        'environment: {A: "1", B: "2"}', "environment: {A: '1', B: '${env:TOKEN:-}'}"
    )
    spec = parse(empty_env, {})
    assert spec.jobs["train"].environment["B"] == "" and spec.secret_values() == []


def test_an_unwritten_field_is_located_at_its_nearest_written_ancestor(parse):
    spec = parse(MINIMAL_V2)
    lines = MINIMAL_V2.splitlines()
    assert spec.locate(("jobs", "train", "cpu")) == (lines.index("  train:") + 1, 3)
    assert spec.locate(("jobs", "train", "schedule", "cron")) == (lines.index("  train:") + 1, 3)


def test_a_secret_project_name_masks_that_name_only(parse):
    text = MINIMAL_V2.replace("    name: demo-prd\n", "    name: ${env:PRD_NAME}\n", 1)
    spec = parse(text, {"PRD_NAME": "prd-666666"})
    assert f"name='{MASK}'" in repr(spec.projects.prd) and "prd-666666" not in repr(spec.projects)
    assert "name='demo-dev'" in repr(spec.projects.dev)


@pytest.mark.parametrize(
    "url",
    ["https://github.com/a/b.git", "http://git.internal/a/b", "ssh://git@github.com/a/b", "git://github.com/a/b", "git@github.com:a/b.git"],
)  # fmt: skip
def test_a_git_url_cml_can_clone_is_kept(parse, url):
    text = MINIMAL_V2.replace('files: ["code/*.py"]', f"git_url: '{url}'")
    assert parse(text).projects.dev.source.git_url == url


def test_a_secret_inside_a_list_of_sections_masks_that_field_of_that_item(parse):
    text = MINIMAL_V2.replace(
        "    experiment: demo-exp\n",
        "    experiment: demo-exp\n    gates:\n      thresholds:\n        - {metric: r2, min: 0.1}\n"
        "        - {metric: '${env:METRIC}', max: 0.9}\n",
        1,
    )
    gates = parse(text, {"METRIC": "rmse-777777"}).models["demo-model"].gates
    assert gates.thresholds[1].metric == "rmse-777777"
    assert f"metric='{MASK}'" in repr(gates.thresholds[1]) and "metric='r2'" in repr(gates.thresholds[0])
    assert "rmse-777777" not in repr(gates)


def test_an_unknown_model_or_target_is_pointed_at_its_section_key(parse):
    from automation.errors import SpecError

    spec = parse(MINIMAL_V2)
    lines = MINIMAL_V2.splitlines()
    with pytest.raises(SpecError) as model:
        spec.model_named("demo-modle")
    assert (model.value.line, model.value.column) == (lines.index("models:") + 1, 1)
    assert "did you mean 'demo-model'?" in model.value.hint
    with pytest.raises(SpecError) as target:
        spec.target("cml2")
    assert (target.value.line, target.value.column) == (lines.index("targets:") + 1, 1)
    assert "did you mean 'cml'?" in target.value.hint
