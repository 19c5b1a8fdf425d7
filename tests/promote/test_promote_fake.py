"""promote and rollback against the CML-shaped fake: decisions, call sequences, rollback on failure."""

from __future__ import annotations

import json

import pytest
from fakes.specs import REPO, make_spec, with_staging
from promote_fake import PromoteFake
from promote_support import BETTER, WORSE, deployed_versions, sequence, serving_version, train

from automation.errors import EXIT_BUILD_FAILED, EXIT_DEPLOY_FAILED, EXIT_GATE, EXIT_SMOKE, InputError
from automation.workflows.bootstrap import bootstrap
from automation.workflows.history import load_history
from automation.workflows.promotion import promote, rollback

REGISTER = "POST /api/v2/registry/models"
VERSION_GET = "GET /api/v2/registry/models/{registered_model}/versions/{version}"
TAGS = "PATCH /api/v2/registry/models/{registered_model}"
MODEL = "/api/v2/projects/{project}/models/{model}"
BUILD_POST = f"POST {MODEL}/builds"
BUILD_GET = f"GET {MODEL}/builds/{{build}}"
DEPLOY_POST = f"POST {MODEL}/builds/{{build}}/deployments"
DEPLOY_GET = f"GET {MODEL}/builds/{{build}}/deployments/{{deployment}}"
STOP = f"POST {MODEL}/builds/{{build}}/deployments/{{deployment}}:stop"
RESTART = f"POST {MODEL}/builds/{{build}}/deployments/{{deployment}}:restart"
SMOKE = "POST model-endpoint"
LEASE = "PATCH /api/v2/registry/models"  # the promotion lease: taken, released


def steps(report) -> list[tuple[str, str]]:
    return [(s.step, s.status) for s in report.steps]


# -- promote ----------------------------------------------------------------------------------------


def test_a_better_candidate_is_built_deployed_smoke_tested_then_replaces_prd(converged, client, spec):
    run_id = train(converged, client, spec, BETTER)

    report = promote(client, spec, env={"GITHUB_SHA": "0123abcd"})

    assert (report.outcome, report.exit_code, report.rolled_back) == ("promoted", 0, False)
    assert sequence(converged) == [
        REGISTER,
        VERSION_GET,
        BUILD_POST,
        BUILD_GET,
        DEPLOY_POST,
        DEPLOY_GET,
        SMOKE,
        STOP,
        TAGS,  # version 2: production
        TAGS,  # version 1: archived
    ]
    assert deployed_versions(converged) == [2]
    assert serving_version(converged) == 2
    tags = converged.tags_of(2)
    assert tags["stage"] == "production"
    assert tags["from_run"] == run_id
    assert tags["git_commit"] == "0123abcd"
    assert tags["promoted_by"] == "promote"
    assert tags["replaced_version"] == "1"
    assert tags["promoted_at"].endswith("Z")
    assert tags["cmlops.spec"] == spec.name  # the registration tag survives the tag update
    gates = json.loads(tags["gates"])
    assert [(g["metric"], g["passed"]) for g in gates] == [("r2", True), ("rmse", True), ("rmse", True)]
    assert converged.tags_of(1)["stage"] == "archived"
    assert report.candidate["number"] == 2 and report.previous["number"] == 1
    assert report.previous["metrics"]["rmse"] == pytest.approx(0.6536)


def test_promoting_the_version_that_serves_is_a_no_op(converged, client, spec):
    train(converged, client, spec, BETTER)
    assert promote(client, spec).outcome == "promoted"
    converged.calls.clear()

    again = promote(client, spec)

    assert (again.outcome, again.exit_code) == ("noop", 0)
    assert converged.writes() == []
    assert deployed_versions(converged) == [2]


@pytest.mark.parametrize(
    ("metrics", "failing"),
    [
        (WORSE, [("no_worse_than_prd", "rmse")]),
        (
            {"rmse": 0.95, "mae": 0.7, "r2": 0.1},
            [("threshold", "r2"), ("threshold", "rmse"), ("no_worse_than_prd", "rmse")],
        ),
    ],
)
def test_a_candidate_failing_a_gate_is_refused_and_nothing_is_written(
    converged, client, spec, metrics, failing
):
    train(converged, client, spec, metrics)
    prd_before = json.dumps(converged.deployments, sort_keys=True)

    report = promote(client, spec)

    assert (report.outcome, report.exit_code) == ("refused", EXIT_GATE)
    assert [(g["gate"], g["metric"]) for g in report.gates if not g["passed"]] == failing
    assert report.error["error"] == "GateFailed" and "nothing was built" in report.error["message"]
    assert converged.writes() == []  # not even registered
    assert json.dumps(converged.deployments, sort_keys=True) == prd_before
    assert serving_version(converged) == 1


def test_no_worse_fails_closed_when_the_prd_version_metrics_cannot_be_read(converged, client, spec):
    first_run = next(iter(converged.experiment_runs))
    train(converged, client, spec, BETTER)
    del converged.experiment_runs[first_run]  # the run behind PRD's version 1 is gone

    report = promote(client, spec)

    assert report.exit_code == EXIT_GATE
    failed = [g for g in report.gates if not g["passed"]]
    assert [g["gate"] for g in failed] == ["no_worse_than_prd"]
    assert "unknown" in failed[0]["threshold"] and first_run in failed[0]["threshold"]
    assert converged.writes() == []


def test_a_smoke_test_failure_stops_the_new_deployment_and_the_old_one_keeps_serving(converged, client, spec):
    converged.supersede_on_deploy = False  # a workspace that keeps the old one serving (handled too)
    run_id = train(converged, client, spec, BETTER)
    converged.broken_runs.add(run_id)

    report = promote(client, spec)

    assert (report.outcome, report.failed_step, report.exit_code) == ("failed", "smoke", EXIT_SMOKE)
    assert report.rolled_back is True
    assert sequence(converged) == [
        REGISTER,
        VERSION_GET,
        BUILD_POST,
        BUILD_GET,
        DEPLOY_POST,
        DEPLOY_GET,
        SMOKE,  # 500 from the broken model
        DEPLOY_GET,  # the new one serves (so it is stopped only once the old one serves), the old one too
        STOP,  # the new deployment
        SMOKE,  # and the old one answers
        TAGS,  # version 2: rejected
    ]
    assert deployed_versions(converged) == [1]
    assert serving_version(converged) == 1
    assert converged.tags_of(2)["stage"] == "rejected" and converged.tags_of(2)["rejected_step"] == "smoke"
    assert "stage" not in converged.tags_of(1)
    assert steps(report)[-4:] == [
        ("restore_previous", "ok"),
        ("stop_new", "ok"),
        ("verify_previous", "ok"),
        ("record", "ok"),
    ]
    assert report.serving == "version 1 answers (verified after putting it back)"


def test_when_cml_stopped_the_old_deployment_a_failed_smoke_test_restarts_it(converged, client, spec):
    assert converged.supersede_on_deploy  # the fake's default: CML stops the older deployment
    converged.broken_runs.add(train(converged, client, spec, BETTER))

    report = promote(client, spec)

    assert (report.exit_code, report.rolled_back) == (EXIT_SMOKE, True)
    seq = sequence(converged)
    # hitless: the old deployment is restarted and serves before the new one is stopped
    assert seq[seq.index(SMOKE) :] == [SMOKE, DEPLOY_GET, RESTART, DEPLOY_GET, STOP, SMOKE, TAGS]
    assert deployed_versions(converged) == [1]
    restore = next(s for s in report.steps if s.step == "restore_previous")
    assert restore.status == "ok" and restore.detail.startswith("restarted")


def test_a_build_failure_exits_10_and_leaves_the_old_deployment_untouched(converged, client, spec):
    train(converged, client, spec, BETTER)
    converged.build_outcome = "build failed"
    old = json.dumps(converged.deployments, sort_keys=True)

    report = promote(client, spec)

    assert (report.failed_step, report.exit_code, report.rolled_back) == ("build", EXIT_BUILD_FAILED, False)
    assert converged.write_summary() == [LEASE, REGISTER, BUILD_POST, TAGS, LEASE]  # no deployment, no stop
    assert json.dumps(converged.deployments, sort_keys=True) == old
    assert converged.tags_of(2)["rejected_step"] == "build"
    assert report.serving == "the endpoint answers"  # called at the end: version 1 still answers


def test_a_deployment_failure_exits_11_and_stops_the_new_deployment(converged, client, spec):
    converged.supersede_on_deploy = False  # a workspace that keeps the old one serving (handled too)
    train(converged, client, spec, BETTER)
    converged.deploy_outcome = "failed"

    report = promote(client, spec)

    assert (report.failed_step, report.exit_code) == ("deploy", EXIT_DEPLOY_FAILED)
    assert converged.write_summary() == [
        LEASE,
        REGISTER,
        BUILD_POST,
        DEPLOY_POST,
        STOP,  # it never served: stopped before the old one is checked
        TAGS,
        LEASE,
    ]
    assert deployed_versions(converged) == [1]
    assert serving_version(converged) == 1


def test_promote_a_registered_version_reuses_its_existing_build(converged, client, spec):
    train(converged, client, spec, BETTER)
    assert promote(client, spec).outcome == "promoted"
    rollback(client, spec, to_version=1)
    converged.calls.clear()

    report = promote(client, spec, version=2)  # built before: no new build

    assert report.outcome == "promoted"
    assert BUILD_POST not in sequence(converged)
    assert next(s for s in report.steps if s.step == "build").detail.startswith("reused build")
    assert serving_version(converged) == 2


def test_promote_by_run_id_registers_that_run(converged, client, spec):
    chosen = train(converged, client, spec, BETTER)
    train(converged, client, spec, {"rmse": 0.62, "mae": 0.5, "r2": 0.39})  # newer, not chosen

    report = promote(client, spec, run_id=chosen)

    assert report.outcome == "promoted" and report.candidate["run_id"] == chosen
    assert converged.tags_of(2)["from_run"] == chosen


def test_bad_candidate_choices_are_input_errors_before_any_write(converged, client, spec):
    with pytest.raises(InputError, match=r"--version 9: .* no version 9 \(versions: 1\)"):
        promote(client, spec, version=9)
    with pytest.raises(InputError, match="--run-id nope: no such run"):
        promote(client, spec, run_id="nope")
    with pytest.raises(InputError, match="either --version or --run-id"):
        promote(client, spec, version=1, run_id="x")
    assert converged.writes() == []


def test_promote_refuses_a_workspace_without_prd_and_points_to_bootstrap(fake, client, spec):
    with pytest.raises(InputError) as info:
        promote(client, spec)
    assert "PRD project 'wine-test-prd' does not exist" in info.value.message
    assert "cmlops bootstrap" in info.value.hint
    with pytest.raises(InputError) as info:
        rollback(client, spec)
    assert "does not exist" in info.value.message
    assert fake.writes() == []


# -- dry run ----------------------------------------------------------------------------------------


def test_dry_run_shows_the_decision_and_steps_and_writes_nothing(converged, client, spec):
    train(converged, client, spec, BETTER)
    writes_before = client.http.stats.writes()

    report = promote(client, spec, dry_run=True)

    assert (report.outcome, report.exit_code, report.dry_run) == ("planned", 0, True)
    assert converged.writes() == [] and client.http.stats.writes() == writes_before
    assert converged.predictions == []  # no smoke call either
    assert steps(report) == [
        (name, "planned") for name in ("register", "build", "deploy", "smoke", "stop_previous", "record")
    ]
    assert report.gates_passed and report.candidate["number"] is None and report.previous["number"] == 1
    assert "version 1 stage=archived" in report.steps[-1].detail


def test_dry_run_of_a_refused_candidate_exits_6_and_writes_nothing(converged, client, spec):
    train(converged, client, spec, WORSE)
    report = promote(client, spec, dry_run=True)
    assert (report.outcome, report.exit_code, report.steps) == ("refused", EXIT_GATE, [])
    assert converged.writes() == []


def test_dry_run_rollback_writes_nothing(converged, client, spec):
    train(converged, client, spec, BETTER)
    promote(client, spec)
    converged.calls.clear()

    report = rollback(client, spec, to_version=1, dry_run=True)

    assert report.outcome == "planned" and converged.writes() == []
    assert report.steps[0].detail.startswith("reuse build")
    assert "version 2 stage=rolled_back" in report.steps[-1].detail


# -- rollback and history ---------------------------------------------------------------------------


def test_rollback_to_a_previous_version_reuses_its_build(converged, client, spec):
    train(converged, client, spec, BETTER)
    promote(client, spec)
    converged.calls.clear()

    report = rollback(client, spec, to_version=1)

    assert (report.action, report.outcome, report.exit_code, report.gates) == ("rollback", "promoted", 0, [])
    assert sequence(converged) == [DEPLOY_POST, DEPLOY_GET, SMOKE, STOP, TAGS, TAGS]
    assert deployed_versions(converged) == [1]
    assert serving_version(converged) == 1
    assert converged.tags_of(1)["stage"] == "production" and converged.tags_of(1)["promoted_by"] == "rollback"
    assert converged.tags_of(2)["stage"] == "rolled_back"
    assert json.loads(converged.tags_of(2)["gates"])  # version 2 keeps the gates it was promoted with


def test_rollback_by_default_goes_to_the_version_promoted_before_the_current_one(converged, client, spec):
    train(converged, client, spec, BETTER)
    promote(client, spec)  # version 2
    train(converged, client, spec, {"rmse": 0.60, "mae": 0.47, "r2": 0.41})
    promote(client, spec)  # version 3

    report = rollback(client, spec)

    assert report.candidate["number"] == 2 and report.previous["number"] == 3
    assert serving_version(converged) == 2
    # version 3 was rolled back from; version 1 served before version 2 replaced it: a good version
    report = rollback(client, spec)
    assert (report.outcome, report.candidate["number"], report.previous["number"]) == ("promoted", 1, 2)
    assert serving_version(converged) == 1
    # versions 2 and 3 were rolled back from: no good version is left to roll back to
    with pytest.raises(InputError, match="no earlier good version"):
        rollback(client, spec)


def test_rollback_failure_keeps_the_current_version(converged, client, spec):
    train(converged, client, spec, BETTER)
    promote(client, spec)
    converged.deploy_outcome = "failed"

    report = rollback(client, spec, to_version=1)

    assert (report.exit_code, report.failed_step) == (EXIT_DEPLOY_FAILED, "deploy")
    assert deployed_versions(converged) == [2]


def test_history_lists_promotions_newest_first(converged, client, spec):
    train(converged, client, spec, BETTER)
    promote(client, spec, env={"CI_COMMIT_SHA": "feed"})  # version 2 replaces 1
    converged.broken_runs.add(train(converged, client, spec, {"rmse": 0.60, "mae": 0.47, "r2": 0.41}))
    promote(client, spec)  # version 3: smoke test fails

    entries = load_history(client, spec)

    assert [(e.version, e.stage) for e in entries] == [(3, "rejected"), (2, "production"), (1, "archived")]
    assert entries[0].rejected_step == "smoke"
    assert entries[1].git_commit == "feed" and entries[1].replaced_version == 1
    assert entries[1].gates and all(g["passed"] for g in entries[1].gates)


def test_a_previous_deployment_cml_already_stopped_does_not_fail_the_promotion(converged, client, spec):
    assert converged.supersede_on_deploy  # the fake's default: CML stops the older deployment
    train(converged, client, spec, BETTER)
    converged.fail("POST", r":stop$", status=400)  # CML refuses to stop what is already stopped

    report = promote(client, spec)

    assert (report.outcome, report.exit_code) == ("promoted", 0)
    stop = next(s for s in report.steps if s.step == "stop_previous")
    assert stop.detail.endswith("was already down")
    assert deployed_versions(converged) == [2]


@pytest.mark.parametrize("path", [r"^/api/v2/registry/models$", r"/builds$", r"/deployments$"])
def test_a_promotion_create_that_answered_500_but_happened_is_finished_without_a_twin(
    converged, client, spec, path
):
    train(converged, client, spec, BETTER)
    versions, builds, deployments = (
        len(converged.model_versions),
        len(converged.builds),
        len(converged.deployments),
    )
    converged.fail("POST", path, status=500, after=True)  # a live workbench did this after 30 s

    report = promote(client, spec)

    assert (report.outcome, report.exit_code) == ("promoted", 0)
    posts = [c for c in converged.calls if c.method == "POST" and c.status == 500]
    assert len(posts) == 1
    assert len(converged.model_versions) == versions + 1
    assert len(converged.builds) == builds + 1 and len(converged.deployments) == deployments + 1
    assert serving_version(converged) == 2


def test_a_rejected_version_is_never_redeployed_by_apply_nor_picked_again_by_promote(converged, client, spec):
    from automation.reconcile import make_plan

    converged.broken_runs.add(train(converged, client, spec, BETTER))
    assert promote(client, spec).exit_code == EXIT_SMOKE  # version 2: rejected, version 1 serves
    assert converged.tags_of(2)["stage"] == "rejected"

    plan = make_plan(client, spec)[0]

    assert not plan.has_changes, plan  # apply would not build or deploy the rejected version
    report = promote(client, spec)  # the spec's selection skips the rejected run: version 1 serves
    assert (report.outcome, report.candidate["number"]) == ("noop", 1)
    assert serving_version(converged) == 1


# -- the staging model: smoke-tested before it takes live traffic ------------------------------------


def _model_calls(fake, access_key: str) -> list[int]:
    """HTTP statuses of the endpoint calls made with one model's access key."""
    return [
        c.status for c in fake.calls if c.host == "model" and (c.body or {}).get("accessKey") == access_key
    ]


def test_with_a_staging_model_a_failing_candidate_never_reaches_the_prd_model(converged, client, spec):
    staged = with_staging(spec, "wine-staging")
    converged.broken_runs.add(train(converged, client, staged, BETTER))
    prd_model = next(iter(converged.models.values()))

    report = promote(client, staged)

    assert (report.outcome, report.failed_step, report.exit_code) == ("failed", "stage", EXIT_SMOKE)
    assert report.rolled_back is False  # PRD was never touched
    prd_builds = [b for b in converged.builds.values() if b["model_id"] == prd_model["id"]]
    assert len(prd_builds) == 1, "the candidate was built in the PRD model"
    staging = next(m for m in converged.models.values() if m["name"] == "wine-staging")
    assert 500 in _model_calls(converged, staging["access_key"])  # it failed there...
    assert set(_model_calls(converged, prd_model["access_key"])) <= {200}  # ...and never on PRD
    assert not [d for d in converged.active_deployments() if d["model_id"] == staging["id"]]
    assert serving_version(converged) == 1 and converged.tags_of(2)["rejected_step"] == "stage"


def test_with_a_staging_model_a_good_candidate_is_staged_then_promoted(converged, client, spec):
    staged = with_staging(spec, "wine-staging")
    train(converged, client, staged, BETTER)

    dry = promote(client, staged, dry_run=True)
    report = promote(client, staged)

    assert [s.step for s in dry.steps] == [s.step for s in report.steps]  # the dry run shows what runs
    assert [s.step for s in report.steps] == [
        "register",
        "stage",
        "build",
        "deploy",
        "smoke",
        "stop_previous",
        "record",
    ]
    assert report.outcome == "promoted" and serving_version(converged) == 2
    staging = next(m for m in converged.models.values() if m["name"] == "wine-staging")
    assert not [d for d in converged.active_deployments() if d["model_id"] == staging["id"]]


def test_each_model_is_built_in_the_runtime_of_the_job_that_trains_it(fake: PromoteFake, client) -> None:
    # train-white runs on Python 3.9: its model must be built there too (a model pickled in one
    # runtime's libraries is not built in another's); wine-red keeps the spec's default runtime.
    py39 = {"editor": "Workbench", "kernel": "Python 3.9", "edition": "Standard"}
    spec = make_spec(
        {"jobs": {"train-white": {"runtime": py39}}}, path=REPO / "tests/reconcile/spec-v2-multi.yaml"
    )
    image = {
        kernel: client.runtimes.pick(editor="Workbench", kernel=kernel, edition="Standard").image_identifier
        for kernel in ("Python 3.9", "Python 3.10")
    }
    assert image["Python 3.9"] != image["Python 3.10"]
    bootstrap(client, spec)
    jobs = {j["name"]: j for j in fake.jobs.values()}
    assert jobs["train-white"]["runtime_identifier"] == image["Python 3.9"]
    assert jobs["train-red"]["runtime_identifier"] == image["Python 3.10"]

    def build_runtimes() -> dict[str, list[str]]:
        built: dict[str, list[str]] = {}
        for build in sorted(fake.builds.values(), key=lambda b: b["created_at"]):
            built.setdefault(fake.models[build["model_id"]]["name"], []).append(build["runtime_identifier"])
        return built

    assert build_runtimes() == {
        "wine-red-endpoint": [image["Python 3.10"]],
        "wine-white-endpoint": [image["Python 3.9"]],
    }
    # a promotion builds the new version in the same runtime
    dev = client.projects.find(spec.projects.dev.name)
    job = client.jobs.find(dev.id, "train-white")
    client.jobs.wait_run(dev.id, job.id, client.jobs.start_run(dev.id, job.id).id)
    report = promote(client, spec, model="wine-white")
    assert report.outcome == "promoted" and report.candidate["number"] == 2
    assert build_runtimes()["wine-white-endpoint"] == [image["Python 3.9"], image["Python 3.9"]]


def test_a_promotion_builds_in_the_runtime_the_training_job_uses_not_a_newer_release(converged, client, spec):
    # as apply does: a runtime released after the job was made still matches the spec, but the
    # model was trained in the job's runtime and is built there
    job = next(iter(converged.jobs.values()))
    in_use = job["runtime_identifier"]
    current = next(r for r in converged.runtimes if r["image_identifier"] == in_use)
    newer = in_use.rsplit(":", 1)[0] + ":2099.01.1-b1"
    converged.runtimes.append(dict(current, full_version="2099.01.1-b1", image_identifier=newer))
    assert (
        client.runtimes.pick(
            editor=current["editor"], kernel=current["kernel"], edition=current["edition"]
        ).image_identifier
        == newer
    )
    train(converged, client, spec, BETTER)
    report = promote(client, spec)
    assert report.outcome == "promoted"
    newest = max(converged.builds.values(), key=lambda b: b["created_at"])
    assert newest["runtime_identifier"] == in_use
    # a job on a runtime that no longer matches: the newest match, as apply would move the job there
    job["runtime_identifier"] = "docker.example.com/retired-runtime:2019.01.1-b1"
    train(converged, client, spec, {"rmse": 0.60, "mae": 0.47, "r2": 0.41})
    assert promote(client, spec).outcome == "promoted"
    newest = max(converged.builds.values(), key=lambda b: b["created_at"])
    assert newest["runtime_identifier"] == newer
