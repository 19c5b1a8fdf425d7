"""A process killed at seeded points of apply (before or after the server acted) is finished by the next apply."""

from __future__ import annotations

import random

import pytest
from fakes.fake_cml import FakeCML, Fault

from automation.reconcile import make_plan
from automation.workflows.bootstrap import apply_spec

SEED = 8
KILL_POINTS = 20  # every write, before and after (fast: the fake runs on a FakeClock)


def _write_shapes(spec) -> list[str]:
    """The write calls a clean apply of ``spec`` makes, in order ('POST /api/v2/projects', ...)."""
    with FakeCML.running(experiment_name="wine-test") as fake:
        apply_spec(fake.client(), spec)
        return fake.write_summary()


def _kill_at(fake: FakeCML, index: int, after: bool) -> None:
    """Raise KeyboardInterrupt out of the ``index``-th write call (0-based), before or after it acted."""
    original = fake._fault_for
    seen = {"writes": 0}

    def fault_for(call):
        if call.is_write:
            seen["writes"] += 1
            if seen["writes"] == index + 1:
                return Fault(call.method, None, 0, after=after, raise_exc=KeyboardInterrupt())  # type: ignore[arg-type]
        return original(call)

    fake._fault_for = fault_for  # type: ignore[method-assign]


def _assert_no_twins(fake: FakeCML, spec) -> None:
    assert len(fake.named(fake.projects, spec.projects.dev.name)) == 1
    assert len(fake.named(fake.projects, spec.projects.prd.name)) == 1
    for table in (fake.jobs, fake.registered_models, fake.models):
        names = [row["name"] for row in table.values()]
        assert len(names) == len(set(names)) == 1, names
    assert len(fake.job_runs) == 1 and len(fake.model_versions) == 1
    assert len(fake.builds) == 1 and len(fake.active_deployments()) == 1
    assert len(fake.deployments) == 1


def test_seeded_kill_points_are_resumed_without_twins(spec) -> None:
    shapes = _write_shapes(spec)
    points = [(i, after) for i in range(len(shapes)) for after in (False, True)]
    chosen = sorted(random.Random(SEED).sample(points, min(KILL_POINTS, len(points))))
    resumed = []
    for index, after in chosen:
        with FakeCML.running(experiment_name="wine-test") as fake:
            client = fake.client()
            _kill_at(fake, index, after)
            with pytest.raises(KeyboardInterrupt):
                apply_spec(client, spec)
            killed_writes = len(fake.writes())
            apply_spec(client, spec)
            _assert_no_twins(fake, spec)
            assert not make_plan(client, spec)[0].has_changes, (index, after)
            assert fake.unrouted == []
            resumed.append(f"{shapes[index]} ({'after' if after else 'before'}; {killed_writes} writes)")
    print(
        f"\nkill points: {len(resumed)} of {len(points)} possible ({len(shapes)} write calls x before/after), "
        f"seed {SEED}; all resumed without twins:\n  " + "\n  ".join(resumed)
    )
    assert len(resumed) == len(chosen)
