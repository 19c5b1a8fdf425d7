"""Under 20% injected API faults of every kind, apply of the flagship spec converges with no twins."""

from __future__ import annotations

from collections import Counter

import pytest

from automation.local import control
from automation.local.faults import FaultConfigError, parse_faults, read_counts
from automation.reconcile import make_plan
from automation.workflows.smoke import smoke_test

pytestmark = pytest.mark.e2e


def test_apply_converges_under_faults_with_exactly_one_of_each(faulty) -> None:
    c, spec = faulty.client, faulty.spec
    counts = read_counts(faulty.workspace.state_dir)
    injected = counts.get("injected", {})
    dev = [p for p in c.projects.list() if p.name == spec.projects.dev.name]
    prd = [p for p in c.projects.list() if p.name == spec.projects.prd.name]
    assert len(dev) == 1 and len(prd) == 1
    jobs = [j for j in c.jobs.list(dev[0].id) if j.name == spec.model_named(None).job]
    assert len(jobs) == 1
    models = [m for m in c.models.list(prd[0].id) if m.name == spec.model_named(None).endpoint.model_name]
    assert len(models) == 1
    builds = list(c.models.list_builds(prd[0].id, models[0].id))
    per_version = Counter(b.registered_model_version_id for b in builds)
    assert all(n == 1 for n in per_version.values()), per_version  # no twin build of one version
    deployments = [d for b in builds for d in c.models.list_deployments(prd[0].id, models[0].id, b.id)]
    active = [d for d in deployments if d.status == "deployed"]
    assert len(active) == 1, [d.status for d in deployments]
    registered = [r for r in c.registry.list() if r.name == spec.model_named(None).registered_name]
    assert len(registered) == 1
    assert not make_plan(c, spec)[0].has_changes  # converged
    smoke = smoke_test(c, models[0], spec.model_named(None).endpoint.smoke)
    assert smoke.get("predictions")

    print(
        f"\nfaults: {counts.get('requests')} API requests, injected {sum(injected.values())} {dict(injected)}; "
        f"client retries {c.http.stats.retries}; apply rounds {faulty.rounds} "
        f"(lost create answers: {len(faulty.lost_answers)}); writes {faulty.writes}; "
        f"resources: projects 2, jobs 1, registered models 1, models 1, builds {len(builds)}, "
        f"deployments {len(deployments)} (1 active)"
    )
    assert sum(injected.values()) > 0 and all(injected.get(k, 0) > 0 for k in ("500", "503", "429", "slow"))
    assert c.http.stats.retries > 0


def test_health_is_never_faulted(faulty) -> None:
    import requests

    for _ in range(20):  # /health is never faulted
        assert requests.get(faulty.workspace.url + "/health", timeout=5).json()["status"] == "ok"


@pytest.mark.parametrize(
    "text, needle",
    [
        ("rate=2", "rate must be in [0, 1]"),
        ("rate=x", "rate must be a number"),
        ("seed=1", "'rate' is required"),
        ("rate=0.1,kinds=500|teapot", "unknown fault kind"),
        ("rate=0.1,color=red", "unknown key"),
        ("rate=0.1,seed=abc", "seed must be an integer"),
        ("rate=0.1,rate=0.2", "given twice"),
        ("rate", "expected key=value"),
    ],
)
def test_bad_fault_settings_are_refused_clearly(text: str, needle: str) -> None:
    with pytest.raises(FaultConfigError, match="CMLOPS_FAULTS") as caught:
        parse_faults(text)
    assert needle in str(caught.value)


def test_a_server_with_bad_fault_settings_refuses_to_start(tmp_path, monkeypatch) -> None:
    from automation.errors import CmlopsError

    monkeypatch.setenv("CMLOPS_FAULTS", "rate=0.5,kinds=boom")
    with pytest.raises(CmlopsError) as caught:
        control.start(tmp_path / ".cmlops", wait=30)
    assert "unknown fault kind" in str(caught.value)
    assert "during start-up" in caught.value.message
