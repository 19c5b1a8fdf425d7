"""The promotion lease (workflows/promotion/lease.py) on the CML-shaped fake: one promote or
rollback of a PRD model at a time, taken over only from a holder that is gone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from fakes.fixtures import cli_runner
from fakes.specs import TEST_SPEC
from promote_support import BETTER, serving_version, train

from automation.clock import FakeClock
from automation.errors import EXIT_BUSY, PermissionDenied, PromotionBusy
from automation.workflows.promotion import promote, rollback
from automation.workflows.promotion.lease import MARK, Lease, LeaseRecord, join, split

SPEC = str(TEST_SPEC)
LEASE = "PATCH /api/v2/registry/models"


def _registered(client, spec):
    return client.registry.find(spec.model_named(None).registered_name)


def _lease(client, spec, *, wall=None, clock=None, **kw) -> Lease:
    return Lease(
        client,
        _registered(client, spec).model_id,
        action="promote",
        target="version 2",
        clock=clock or FakeClock(),
        wall=wall or (lambda: 1_000_000.0),
        **kw,
    )


def _held_by_other(
    converged, *, host: str = "ci-runner-7", pid: int = 4242, expires: float = 2e9
) -> LeaseRecord:
    record = LeaseRecord(
        "ci@ci-runner-7:4242:abcd", host, pid, "promote", "version 3", "2026-01-01T00:00:00Z", expires, 3
    )
    model = next(iter(converged.registered_models.values()))
    model["description"] = join("Wine model, owned by the ML team", record)
    return record


def test_split_and_join_keep_the_users_description():
    record = LeaseRecord("a@h:1:x", "h", 1, "rollback", "version 1", "t", 10.0, 1)
    text = join("line one\nline two", record)
    assert text.endswith(record.text()) and text.startswith("line one\nline two\n" + MARK)
    assert split(text) == ("line one\nline two", record)
    assert split("no lease here") == ("no lease here", None)
    assert split("x\n" + MARK + "{not json")[1] is None  # a garbled line is no lease
    assert split(join("", record)) == ("", record)


def test_a_lease_is_taken_verified_and_released_leaving_the_description_as_it_was(converged, client, spec):
    model = next(iter(converged.registered_models.values()))
    model["description"] = "Wine model, owned by the ML team"
    lease = _lease(client, spec)
    lease.acquire()
    held = split(converged.description_of())[1]
    assert held is not None and held.owner == lease.owner and held.action == "promote"
    assert held.expires == 1_000_000.0 + lease.ttl and held.pid == os.getpid()
    lease.release()
    assert converged.description_of() == "Wine model, owned by the ML team"


def test_a_live_lease_of_another_process_refuses_with_exit_12_and_names_it(converged, client, spec):
    _held_by_other(converged)
    with pytest.raises(PromotionBusy) as refused:
        _lease(client, spec).acquire()
    assert refused.value.exit_code == EXIT_BUSY == 13
    assert "ci@ci-runner-7:4242:abcd" in refused.value.message and "version 3" in refused.value.message
    assert "--wait" in refused.value.hint


def test_waiting_for_a_live_lease_gives_up_at_the_deadline(converged, client, spec):
    _held_by_other(converged)
    clock = FakeClock()
    with pytest.raises(PromotionBusy):
        _lease(client, spec, clock=clock).acquire(wait=10)
    assert 9.9 <= clock.now() <= 10.1 and len(clock.sleeps) >= 5  # polled, then refused


def test_an_expired_lease_is_taken_over(converged, client, spec):
    old = _held_by_other(converged, expires=999_999.0)  # expired one second before "now"
    lease = _lease(client, spec)
    lease.acquire()
    assert lease.taken_over == old and split(converged.description_of())[1].owner == lease.owner


def test_a_lease_whose_process_on_this_machine_is_gone_is_taken_over_at_once(converged, client, spec):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    old = _held_by_other(converged, host=socket.gethostname(), pid=int(dead.stdout))
    lease = _lease(client, spec)
    lease.acquire()
    assert lease.taken_over == old


def test_of_two_racing_writers_only_the_last_written_holds_it(converged, client, spec):
    """Both read "free" and write; each reads back after settling: only the last write is seen."""
    first, second = _lease(client, spec), _lease(client, spec)

    class Racing(FakeClock):
        def sleep(self, seconds: float) -> None:  # while ``first`` settles, ``second`` writes its line
            super().sleep(seconds)
            if split(converged.description_of())[1].owner == first.owner:
                second._write("", second._record())  # second read "free" before first wrote

    first.clock = Racing()
    with pytest.raises(PromotionBusy):
        first.acquire()
    second.acquire()  # its own line is there: it holds the lease
    assert second.held and not first.held
    assert split(converged.description_of())[1].owner == second.owner


def test_renewing_a_lease_taken_over_meanwhile_fails(converged, client, spec):
    lease = _lease(client, spec)
    lease.acquire()
    _held_by_other(converged)
    with pytest.raises(PromotionBusy, match="lost the promotion lease"):
        lease.renew()


def test_promote_while_another_promotion_runs_is_refused_with_nothing_written(converged, client, spec):
    train(converged, client, spec, BETTER)
    _held_by_other(converged)
    converged.calls.clear()

    report = promote(client, spec)

    assert (report.outcome, report.exit_code) == ("busy", EXIT_BUSY)
    assert "another promotion of this model is in progress" in report.error["message"]
    assert converged.writes() == [] and serving_version(converged) == 1
    assert rollback(client, spec, to_version=1).outcome == "noop"  # a no-op takes no lease


def test_promote_takes_and_releases_the_lease_around_its_writes(converged, client, spec):
    train(converged, client, spec, BETTER)
    converged.calls.clear()

    report = promote(client, spec)

    assert report.outcome == "promoted"
    writes = converged.write_summary()
    assert writes[0] == LEASE and writes[-1] == LEASE and LEASE not in writes[1:-1]
    assert split(converged.description_of())[1] is None


def test_promote_cli_exits_12_when_busy(converged, client, spec, monkeypatch, capsys):
    cli = cli_runner(client, monkeypatch, capsys)
    train(converged, client, spec, BETTER)
    _held_by_other(converged)

    code, out, _ = cli("-o", "json", "promote", SPEC)

    assert code == 13
    report = json.loads(out)
    assert report["outcome"] == "busy" and report["ok"] is False and report["exit_code"] == 13


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def _killed_rollback_left(converged, *, version: int) -> None:
    """What a `cmlops rollback` SIGKILLed on this machine leaves: its lease line, its process gone."""
    record = LeaseRecord(
        "ci@here:1:dead",
        socket.gethostname(),
        _dead_pid(),
        "rollback",
        "the previous good version",
        "t",
        2e9,
        version,
    )
    next(iter(converged.registered_models.values()))["description"] = join("", record)


def _set_stage(converged, number: int, stage: str) -> None:
    version = next(v for v in converged.model_versions.values() if v["number"] == number)
    version["tags"] = [t for t in version["tags"] if t["key"] != "stage"] + [{"key": "stage", "value": stage}]


def test_a_rollback_killed_after_its_deployment_is_finished_not_undone(converged, client, spec):
    train(converged, client, spec, BETTER)
    promote(client, spec)  # version 2 serves
    assert rollback(client, spec, to_version=1).outcome == "promoted"
    _set_stage(converged, 1, "archived")  # killed before its record: version 2 still called production
    _set_stage(converged, 2, "production")
    _killed_rollback_left(converged, version=1)
    converged.calls.clear()

    report = rollback(client, spec)  # no --to: the interrupted rollback names its version

    assert (report.outcome, report.candidate["number"], report.previous["number"]) == ("promoted", 1, 2)
    assert [(s.step, s.status) for s in report.steps] == [("smoke", "ok"), ("record", "ok")]
    assert serving_version(converged) == 1
    assert converged.tags_of(1)["stage"] == "production" and converged.tags_of(2)["stage"] == "rolled_back"
    assert split(converged.description_of())[1] is None  # the orphaned lease was taken over, then released


def test_a_rollback_killed_before_its_deployment_is_redone(converged, client, spec):
    train(converged, client, spec, BETTER)
    promote(client, spec)  # version 2 serves; version 1 archived
    _killed_rollback_left(converged, version=1)

    report = rollback(client, spec)

    assert (report.outcome, report.candidate["number"]) == ("promoted", 1)
    assert [s.step for s in report.steps] == ["build", "deploy", "smoke", "stop_previous", "record"]
    assert serving_version(converged) == 1


def test_a_workspace_refusing_the_lease_write_fails_with_a_hint_and_nothing_else_written(
    converged, client, spec
):
    train(converged, client, spec, BETTER)
    converged.calls.clear()
    converged.fail("PATCH", r"/api/v2/registry/models/?$", status=403)

    with pytest.raises(PermissionDenied) as refused:
        promote(client, spec)

    assert "registered model's description" in refused.value.hint
    assert converged.write_summary() == [LEASE] and serving_version(converged) == 1
