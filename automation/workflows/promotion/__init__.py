"""promote and rollback: put a registered model version into PRD only when it is good, and put PRD
back as it was when anything fails.

One run: take the model's promotion lease (lease.py; not for a dry run), observe with reads only
(observe.py), decide once as data (decide.py: nothing to do, refused by the gates, or a plan of
steps), then either render the plan (``--dry-run``) or execute it (execute.py; restore.py puts PRD
back on failure), and report (report.py). The steps a dry run shows are the steps a real run takes.

Decisions made here (README, "CI-driven promotion"):

* the PRD project and model must exist: promote changes what PRD serves, creating PRD is
  ``cmlops bootstrap``'s job, so a missing one is refused with that hint (exit 2, nothing written);
* promoting the version that already serves alone is a no-op (exit 0, zero writes, gates not run);
  when it serves but the record says otherwise (an interrupted run), the run finishes the record;
* "no worse than PRD" fails closed: when PRD serves a version whose metrics cannot be read, the gate
  fails rather than letting an unknown comparison through;
* rollback skips the gates (it is the escape hatch) but builds, deploys and smoke-tests like promote;
* a second promote/rollback of the same model while one runs is refused (exit 13) or waits (``wait``).

Every outcome is a :class:`PromotionReport` (what CI stores as JSON); the CLI exits with its
``exit_code``. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.errors import EXIT_GATE, InputError, PromotionBusy
from automation.workflows import history as hist
from automation.workflows.promotion.decide import NOOP, PLAN, REFUSED, Decision, decide
from automation.workflows.promotion.execute import Executor
from automation.workflows.promotion.lease import Lease, interrupted
from automation.workflows.promotion.observe import Reader, Situation, load_registry, observe_prd
from automation.workflows.promotion.report import PromotionReport, Step, VersionRef
from automation.workflows.promotion.steps import StepCallback, StepRunner
from automation.workflows.smoke import liveness

__all__ = ["PromotionReport", "Step", "VersionRef", "promote", "rollback"]

# Observes PRD and the registry; the second argument pins the candidate to the one the first
# observation chose (the decision is re-made under the lease, on the same candidate).
Observe = Callable[[Reader, VersionRef | None], Situation]


def promote(
    client: CMLClient,
    spec: Any,
    *,
    model: str | None = None,
    version: int | None = None,
    run_id: str | None = None,
    dry_run: bool = False,
    wait: float = 0.0,
    on_step: StepCallback | None = None,
    on_progress: Callable[[WaitEvent], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> PromotionReport:
    """Promote ``--version N``, ``--run-id ID`` or (neither) the spec's selected run into PRD.

    ``model`` names the registered model (a key of the spec's ``models``; None when it has one).
    Input problems (no such version, PRD missing) raise InputError before anything is written;
    every other outcome, failures and a busy lease included, is in the returned report (``exit_code``).
    """
    if version is not None and run_id is not None:
        raise InputError("give either --version or --run-id, not both")
    mspec = spec.model_named(model)

    def observe(reader: Reader, pin: VersionRef | None) -> Situation:
        prd = observe_prd(client, spec, mspec)
        reg = load_registry(client, mspec)
        if pin is not None:  # the same candidate (an unregistered run may have been registered meanwhile)
            number, run = (pin.number, None) if pin.number is not None else (None, pin.run_id)
            return reader.situation(reg, prd, reader.candidate(reg, version=number, run_id=run))
        return reader.situation(reg, prd, reader.candidate(reg, version=version, run_id=run_id))

    target = f"version {version}" if version else f"run {run_id}" if run_id else "the selected run"
    return _run(client, spec, mspec, "promote", target, observe, dry_run, wait, on_step, on_progress, env)


def rollback(
    client: CMLClient,
    spec: Any,
    *,
    model: str | None = None,
    to_version: int | None = None,
    dry_run: bool = False,
    wait: float = 0.0,
    on_step: StepCallback | None = None,
    on_progress: Callable[[WaitEvent], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> PromotionReport:
    """Serve ``to_version`` again (default: the previous good version, see ``rollback_version``)."""
    mspec = spec.model_named(model)

    def observe(reader: Reader, pin: VersionRef | None) -> Situation:
        reg = load_registry(client, mspec)
        name = mspec.registered_name
        if reg.registered is None:
            raise InputError(f"registered model {name!r} does not exist: nothing to roll back to")
        prd = observe_prd(client, spec, mspec)
        if pin is not None and pin.number is not None and reg.by_number(pin.number) is not None:
            return reader.situation(reg, prd, reader.ref(reg.by_number(pin.number)))
        if to_version is not None:
            target = reg.by_number(to_version)
            if target is None:
                raise InputError(
                    f"--to {to_version}: registered model {name!r} has no version {to_version}",
                    hint="see `cmlops history SPEC` for the versions promoted so far",
                )
        else:
            serving = next(
                (a.version_id for a in prd.active if a.deployment.status.lower() == "deployed"), None
            )
            left = interrupted(reg.registered.description)
            if (
                left is not None
                and left.action == "rollback"
                and left.version
                and reg.by_number(left.version)
            ):
                # a rollback was killed midway: finish it rather than undo it
                return reader.situation(reg, prd, reader.ref(reg.by_number(left.version)))
            entry = hist.rollback_target(
                hist.history(reg.versions), serving or (prd.active[0].version_id if prd.active else None)
            )
            if entry is None:
                raise InputError(
                    f"no earlier good version of {name!r} to roll back to (none was promoted or served before)",
                    hint="pass --to VERSION (see `cmlops history SPEC`)",
                )
            target = reg.by_id(entry.version_id)
        return reader.situation(reg, prd, reader.ref(target))

    target = f"version {to_version}" if to_version else "the previous good version"
    return _run(client, spec, mspec, "rollback", target, observe, dry_run, wait, on_step, on_progress, env)


def _run(
    client: CMLClient,
    spec: Any,
    mspec: Any,
    action: str,
    target: str,
    observe: Observe,
    dry_run: bool,
    wait: float,
    on_step: StepCallback | None,
    on_progress: Callable[[WaitEvent], None] | None,
    env: Mapping[str, str] | None,
) -> PromotionReport:
    report = PromotionReport(
        action=action,
        spec=spec.name,
        dry_run=dry_run,
        git_commit=hist.git_commit(env),
        started_at=hist.utc_now_iso(),
    )
    s, decision = _observe_and_decide(client, spec, mspec, action, observe, None)
    lease = None
    if decision.kind == PLAN and not dry_run:
        # Something will change: take the lease, then decide again on what PRD is now (another run
        # may have changed it while we looked); refusals and no-ops never write, not even the lease.
        lease = _lease(client, mspec, action, target, s.cand.number)
        if lease is not None:
            try:
                lease.acquire(wait)
            except PromotionBusy as exc:
                report.outcome, report.error, report.exit_code = "busy", exc.to_dict(), exc.exit_code
                return _finish(report)
    try:
        if lease is not None:
            s, decision = _observe_and_decide(client, spec, mspec, action, observe, s.cand)
        _describe(report, s, decision)
        if decision.kind == REFUSED:
            err = decision.error
            report.outcome, report.error, report.exit_code = "refused", err.to_dict(), EXIT_GATE
        elif decision.kind == NOOP:
            report.outcome = "noop"
        elif dry_run:
            report.steps = [
                Step(p.name, "skipped" if p.skipped else "planned", detail=p.detail) for p in decision.steps
            ]
            report.outcome = "planned"
        else:
            progress = _renewing(on_progress, lease.renew_if_due if lease else None)
            steps = StepRunner(report, on_step, before=lease.renew_if_due if lease else None)
            Executor(client, spec, mspec, report, decision, s, steps, progress).run()
            report.serving = _serving(client, mspec, report, s)
    finally:
        if lease is not None:
            lease.release()
    return _finish(report)


def _observe_and_decide(
    client: CMLClient, spec: Any, mspec: Any, action: str, observe: Observe, pin: VersionRef | None
) -> tuple[Situation, Decision]:
    s = observe(Reader(client, spec, mspec), pin)
    return s, decide(mspec, action, s, check_gates=action == "promote")


def _lease(client: CMLClient, mspec: Any, action: str, target: str, version: int | None) -> Lease | None:
    """The lease on the registered model (None before anything was ever registered)."""
    registered = client.registry.find(mspec.registered_name)
    if registered is None:
        return None
    return Lease(
        client,
        registered.model_id,
        action=action,
        target=target,
        version=version,
        clock=client.registry.clock,
    )


def _describe(report: PromotionReport, s: Situation, decision: Decision) -> None:
    report.candidate = s.cand.to_dict()
    report.previous = s.previous.to_dict() if s.previous else None
    report.gates = decision.gates
    if decision.kind == NOOP:
        report.previous = report.candidate  # what served before this command: the candidate itself
    elif decision.finishing and decision.retire:
        v = decision.retire[0]
        report.previous = VersionRef(
            int(v.number), v.model_version_id, v.run_id, stage=v.tag_map.get(hist.STAGE)
        ).to_dict()


def _serving(client: CMLClient, mspec: Any, report: PromotionReport, s: Situation) -> str | None:
    """What really serves at the end, by calling the endpoint (after a failure or a finished run;
    after a clean promotion the smoke test has just shown it)."""
    if report.outcome == "promoted" and not any(
        step.step == "record" and step.status == "failed" for step in report.steps
    ):
        smoked = any(step.step == "smoke" and step.status == "ok" for step in report.steps)
        return f"{s.cand.label} answers (smoke test)" if smoked else None
    verified = next((step for step in report.steps if step.step == "verify_previous"), None)
    if verified is not None and verified.status == "ok":
        label = report.previous["number"] if report.previous else None
        return (
            f"version {label} answers (verified after putting it back)"
            if label
            else "the previous deployment answers"
        )
    if mspec.endpoint.smoke is None:
        return None
    return f"the endpoint {liveness(client, s.prd.model, mspec.endpoint.smoke)}"


def _renewing(
    on_progress: Callable[[WaitEvent], None] | None, renew: Callable[[], None] | None
) -> Callable[[WaitEvent], None] | None:
    """The caller's progress callback, renewing the lease as waits go on."""
    if renew is None:
        return on_progress

    def progress(event: WaitEvent) -> None:
        renew()
        if on_progress is not None:
            on_progress(event)

    return progress


def _finish(report: PromotionReport) -> PromotionReport:
    report.finished_at = hist.utc_now_iso()
    return report
