"""Promotion commands: promote, history, rollback.

Made for CI: ``--output json`` prints the promotion report as one JSON document, ``--report FILE``
writes the same document to a file (also when the promotion fails), and the exit code says what
happened (0 promoted or nothing to do, 6 gate failed, 7 smoke test failed, 10 build failed,
11 deployment failed, 5 timed out, 12 another promote/rollback of the model is running; see
``cmlops --help``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from automation.cli.context import CliContext, pass_ctx
from automation.cli.spec_cmds import MODEL_OPTION, SPEC_ARG, load
from automation.errors import InputError

_REPORT_OPTION = click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also write the JSON report to FILE (written whatever the outcome).",
)
_WAIT_OPTION = click.option(
    "--wait",
    "wait",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="SECONDS",
    help="When another promote/rollback of the model is running, wait up to SECONDS for it "
    "(default 0: refuse at once with exit 13).",
)
_DRY_RUN_OPTION = click.option(
    "--dry-run", is_flag=True, help="Show the decision and the steps it would take; change nothing."
)
_OUTCOME_TEXT = {
    "promoted": "promoted: {cand} serves in PRD",
    "noop": "nothing to do: {cand} already serves in PRD",
    "refused": "refused by the gates: nothing was built, PRD unchanged",
    "planned": "dry run: the steps above would run (nothing was changed)",
    "failed": "failed at step {step}",
    "busy": "refused: another promote or rollback of this model is running (nothing was changed)",
}


def _step_printer(ctx: CliContext):
    def on_step(step: str, phase: str, detail: str) -> None:
        if phase == "start":
            ctx.console.print(f"[bold]> {step}[/bold] ...")
        else:
            color = "green" if phase == "ok" else "red"
            ctx.console.print(f"    [{color}]{phase}[/{color}] {detail}", highlight=False)

    return on_step


def _version_text(ref: dict[str, Any] | None) -> str:
    if not ref:
        return "nothing"
    if ref.get("number") is None:
        return f"run {ref['run_id']} (not registered yet)" if ref.get("run_id") else "an unknown build"
    return f"version {ref['number']} (run {ref['run_id']})"


def _value(value: Any) -> str:
    return "missing" if value is None else f"{value:.4f}"


def render_report(report: Any) -> None:
    """The human view: decision, gate table, steps, outcome (stdout)."""
    data = report.to_dict()
    verb = "roll back to" if data["action"] == "rollback" else "promote"
    click.echo(f"{verb} {_version_text(data['candidate'])}; PRD serves {_version_text(data['previous'])}")
    if data["gates"]:
        rows = [("gate", "metric", "value", "threshold", "verdict")] + [
            (g["gate"], g["metric"], _value(g["value"]), g["threshold"], "pass" if g["passed"] else "FAIL")
            for g in data["gates"]
        ]
        widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
        for row in rows:
            click.echo("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for step in data["steps"]:
        timing = f"{step['seconds']:7.1f}s" if step["status"] not in ("planned", "skipped") else " " * 8
        click.echo(f"  {step['status']:<8} {step['step']:<16} {timing}  {step['detail']}")
    text = _OUTCOME_TEXT.get(data["outcome"], data["outcome"]).format(
        cand=_version_text(data["candidate"]), step=data["failed_step"]
    )
    if data["rolled_back"]:
        text += "; PRD was put back"
    click.echo(text)
    if data.get("serving"):
        click.echo(f"serving now: {data['serving']}")
    if data["error"] and data["outcome"] == "failed":
        click.echo(f"error: {data['error'].get('message')}", err=True)
        if data["error"].get("hint"):
            click.echo(f"  hint: {data['error']['hint']}", err=True)


def _check_report_path(report_path: str | None) -> None:
    """Refuse a --report path that cannot be written before anything is done, not after."""
    if report_path and not Path(report_path).resolve().parent.is_dir():
        raise InputError(
            f"--report {report_path}: folder {Path(report_path).parent} does not exist",
            hint="create the folder first, or write the report to the current folder",
        )


def _finish(ctx: CliContext, report: Any, report_path: str | None) -> None:
    data = report.to_dict()
    if report_path:
        Path(report_path).write_text(json.dumps(data, indent=2, default=str) + "\n")
    ctx.emit(data, lambda: render_report(report))
    if report.exit_code:
        sys.exit(report.exit_code)


@click.command()
@SPEC_ARG
@click.option(
    "--version", "version", type=click.IntRange(min=1), default=None, help="A registered version number."
)
@click.option(
    "--run-id", default=None, help="An MLflow run of the DEV experiment (registered first if needed)."
)
@click.option("--latest", is_flag=True, help="The run the model's select picks (the default).")
@_DRY_RUN_OPTION
@_WAIT_OPTION
@_REPORT_OPTION
@MODEL_OPTION
@pass_ctx
def promote(
    ctx: CliContext,
    spec_path: str,
    version: int | None,
    run_id: str | None,
    latest: bool,
    dry_run: bool,
    wait: float,
    report_path: str | None,
    model_name: str | None,
) -> None:
    """Put a model version into PRD if it passes the spec's gates; roll back if anything fails.

    Checks the gates (metric thresholds, no worse than what PRD serves), smoke-tests
    the candidate in the endpoint's staging_model first when the spec names one, builds
    and deploys it in the PRD model, smoke-tests the new deployment, and only then
    stops the previous one and tags the registered versions. A failed build,
    deployment or smoke test makes the previous deployment serve again (restarted
    if needed) before the new one is stopped. One promote or rollback of a model
    runs at a time (exit 13, or --wait).
    """
    given = [
        flag for flag, value in (("--version", version), ("--run-id", run_id), ("--latest", latest)) if value
    ]
    if len(given) > 1:
        raise InputError(f"{' and '.join(given)} both pick the candidate; give one of them")
    _check_report_path(report_path)
    from automation.workflows.promotion import promote as run_promote

    spec = load(spec_path, check_files=False, ctx=ctx)
    client = ctx.client(spec)
    report = run_promote(
        client,
        spec,
        **_model_choice(spec, model_name),
        version=version,
        run_id=run_id,
        dry_run=dry_run,
        wait=wait,
        on_step=_step_printer(ctx),
        on_progress=ctx.progress,
    )
    _finish(ctx, report, report_path)


@click.command()
@SPEC_ARG
@click.option(
    "--to", "to_version", type=click.IntRange(min=1), default=None, help="The version to serve again."
)
@_DRY_RUN_OPTION
@_WAIT_OPTION
@_REPORT_OPTION
@MODEL_OPTION
@pass_ctx
def rollback(
    ctx: CliContext,
    spec_path: str,
    to_version: int | None,
    dry_run: bool,
    wait: float,
    report_path: str | None,
    model_name: str | None,
) -> None:
    """Serve a previous version again (default: the previous good version, i.e. the one that served
    before the current one and was not rolled back from or rejected; a rollback that was interrupted
    is finished first).

    Reuses the version's build when it is built (else builds it), deploys and smoke-tests it, then
    stops the current deployment and tags both versions. Gates are not checked.
    """
    _check_report_path(report_path)
    from automation.workflows.promotion import rollback as run_rollback

    spec = load(spec_path, check_files=False, ctx=ctx)
    client = ctx.client(spec)
    report = run_rollback(
        client,
        spec,
        **_model_choice(spec, model_name),
        to_version=to_version,
        dry_run=dry_run,
        wait=wait,
        on_step=_step_printer(ctx),
        on_progress=ctx.progress,
    )
    _finish(ctx, report, report_path)


@click.command()
@SPEC_ARG
@MODEL_OPTION
@pass_ctx
def history(ctx: CliContext, spec_path: str, model_name: str | None) -> None:
    """List past promotions (newest first), read from the registered versions' tags."""
    from automation.workflows.history import load_history

    spec = load(spec_path, check_files=False, ctx=ctx)
    registered = spec.model_named(model_name).registered_name
    entries = load_history(ctx.client(spec), spec, **_model_choice(spec, model_name))

    def text() -> None:
        if not entries:
            click.echo(f"no promotions of {registered!r} yet")
            return
        rows = [("version", "stage", "at", "by", "run", "commit")] + [
            (
                str(e.version),
                e.stage + (f" ({e.rejected_step})" if e.rejected_step else ""),
                e.at,
                e.promoted_by or "-",
                e.from_run or "-",
                (e.git_commit or "-")[:12],
            )
            for e in entries
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        for row in rows:
            click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

    ctx.emit({"ok": True, "model": registered, "history": [e.to_dict() for e in entries]}, text)


def _model_choice(spec: Any, model_name: str | None) -> dict[str, str]:
    """Which model the command acts on, as the workflows' ``model=`` keyword: checked against the spec
    (a SpecError lists the names); nothing when the spec has one model and --model was not given."""
    model = spec.model_named(model_name)
    return {"model": model.registered_name} if model_name is not None else {}


COMMANDS = [promote, history, rollback]
