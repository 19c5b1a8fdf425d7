"""Spec-driven commands: validate, schema, plan, apply, bootstrap, status, predict, destroy."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from automation.cli.context import CliContext, pass_ctx
from automation.errors import EXIT_CHANGES, InputError

SPEC_ARG = click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
_SYMBOL = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "upload": "^",
    "run": ">",
    "wait": "...",
    "register": "R",
    "build": "B",
    "deploy": "D",
    "noop": "=",
}


def load(spec_path: str, *, check_files: bool = True) -> Any:
    from automation.spec import check_files as check
    from automation.spec import load_spec

    spec = load_spec(spec_path)
    if check_files:
        check(spec, spec.repo_root)
    return spec


def render_plan(ctx: CliContext, plan: Any) -> None:
    for a in plan.actions:
        style = "dim" if a.kind == "noop" else "bold"
        line = f"[{style}]{_SYMBOL.get(a.kind, '?'):>3} {a.kind:<8} {a.resource:<16} {a.name}[/{style}]"
        if a.reason:
            line += f"  [dim]({a.reason})[/dim]"
        ctx.console.print(line)
        for fld, (cur, new) in list(a.changes.items())[:12]:
            ctx.console.print(f"        {fld}: {cur!r} -> {new!r}", markup=False, highlight=False)
    n = len(plan.changes)
    ctx.console.print(
        f"{n} change(s), {len(plan.actions) - n} up to date, {plan.reads} read request(s)."
        if n
        else f"No changes: the workspace matches the spec ({plan.reads} read requests)."
    )


def _step_printer(ctx: CliContext):
    def on_step(action: Any, phase: str) -> None:
        if phase == "start":
            ctx.console.print(
                f"[bold]{_SYMBOL.get(action.kind, '?'):>3} {action.kind} {action.resource}[/bold] "
                f"{action.name} ..."
            )
        else:
            ctx.console.print(f"    [green]{phase}[/green]")

    return on_step


@click.command()
@SPEC_ARG
@pass_ctx
def validate(ctx: CliContext, spec_path: str) -> None:
    """Check a spec offline: schema, variables, and that the files it names exist."""
    spec = load(spec_path)
    ctx.emit(
        {"ok": True, "spec": str(Path(spec_path)), "name": spec.name},
        f"{spec_path}: valid (spec {spec.name!r})",
    )


@click.command()
@pass_ctx
def schema(ctx: CliContext) -> None:
    """Print the spec's JSON Schema (for editor completion and validation)."""
    from automation.spec import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=2))


@click.command()
@SPEC_ARG
@click.option("--retrain", is_flag=True, help="Plan a new training run even if a good one exists.")
@click.option("--detailed-exitcode", is_flag=True, help=f"Exit {EXIT_CHANGES} when the plan has changes.")
@pass_ctx
def plan(ctx: CliContext, spec_path: str, retrain: bool, detailed_exitcode: bool) -> None:
    """Show what apply would change in the workspace (reads only)."""
    from automation.reconcile import make_plan

    spec = load(spec_path)
    the_plan, _, _ = make_plan(ctx.client(spec), spec, retrain=retrain)
    ctx.emit({"ok": True, **the_plan.to_dict()}, lambda: render_plan(ctx, the_plan))
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command()
@SPEC_ARG
@click.option("--retrain", is_flag=True, help="Run the training job again even if a good run exists.")
@pass_ctx
def apply(ctx: CliContext, spec_path: str, retrain: bool) -> None:
    """Make the workspace match the spec (idempotent; safe to interrupt and re-run)."""
    from automation.workflows.bootstrap import apply_spec

    spec = load(spec_path)
    client = ctx.client(spec)
    the_plan, obs, result = apply_spec(
        client,
        spec,
        retrain=retrain,
        on_plan=lambda p: render_plan(ctx, p),
        on_step=_step_printer(ctx),
        on_progress=ctx.progress,
    )
    from automation.reconcile import summary_ids

    data = {
        "ok": True,
        "plan": the_plan.to_dict(),
        "apply": result.to_dict() if result else {"writes": 0},
        "summary": summary_ids(obs),
    }
    ctx.emit(data, lambda: click.echo("Applied." if result else "Nothing to do."))


@click.command()
@SPEC_ARG
@click.option("--retrain", is_flag=True, help="Run the training job again even if a good run exists.")
@pass_ctx
def bootstrap(ctx: CliContext, spec_path: str, retrain: bool) -> None:
    """Validate, plan, apply, then smoke-test the PRD endpoint and print a summary.

    Takes an empty workspace to a serving PRD model endpoint; re-running changes nothing.
    """
    from automation.workflows.bootstrap import bootstrap as run_bootstrap

    spec = load(spec_path)
    client = ctx.client(spec)
    ctx.console.print(f"[bold]cmlops bootstrap[/bold] {spec.name} on {client.http.base_url}")
    result = run_bootstrap(
        client,
        spec,
        retrain=retrain,
        on_plan=lambda p: render_plan(ctx, p),
        on_step=_step_printer(ctx),
        on_progress=ctx.progress,
    )

    def text() -> None:
        s = result.summary
        rows = [
            ("DEV project", s["dev_project_id"]),
            ("PRD project", s["prd_project_id"]),
            ("job run", f"{s['job_run_id']} {s['job_run_status']}"),
            ("MLflow run", s["mlflow_run_id"]),
            ("metrics", ", ".join(f"{k}={v:.4f}" for k, v in sorted(s["metrics"].items()))),
            (
                "registered model",
                f"{spec.model.registered_name} ({s['registered_model_id']}) version {s['model_version']}",
            ),
            ("model", s["model_id"]),
            ("build", s["build_id"]),
            ("deployment", s["deployment_id"]),
            ("endpoint", s["endpoint_url"]),
        ]
        for label, value in rows:
            click.echo(f"{label:>17}: {value}")
        click.echo(f"{'smoke prediction':>17}: {json.dumps(s['smoke_prediction'])}")

    ctx.emit(result.to_dict(), text)


@click.command()
@SPEC_ARG
@pass_ctx
def status(ctx: CliContext, spec_path: str) -> None:
    """Show what exists of the spec in the workspace, and its state."""
    from automation.reconcile import make_plan, summary_ids

    spec = load(spec_path, check_files=False)
    the_plan, obs, _ = make_plan(ctx.client(spec), spec)
    summary = summary_ids(obs)
    in_sync = not the_plan.has_changes
    if obs.model is not None and obs.deployment is not None and spec.deployment.smoke is not None:
        from automation.workflows.smoke import liveness

        summary["endpoint"] = liveness(ctx.client(spec), obs.model, spec.deployment.smoke)
        in_sync = in_sync and summary["endpoint"] == "answers"  # "deployed" that does not answer is not
    data = {"ok": True, "summary": summary, "in_sync": in_sync}

    def text() -> None:
        for key, value in summary.items():
            click.echo(f"{key:>20}: {value if value not in (None, {}) else '-'}")
        click.echo(f"{'in sync':>20}: {'yes' if in_sync else 'no (run cmlops plan)'}")

    ctx.emit(data, text)


def _read_input(value: str) -> Any:
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise InputError(f"--input: file {path} not found")
        value = path.read_text()
    try:
        return json.loads(value)
    except ValueError as exc:
        raise InputError(
            f"--input is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            hint="pass e.g. --input '{\"input\": [[7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]]}'",
        ) from None


@click.command()
@SPEC_ARG
@click.option(
    "--input",
    "input_",
    default=None,
    metavar="JSON|@FILE",
    help='The request (what goes inside "request"); default: the spec\'s smoke input.',
)
@pass_ctx
def predict(ctx: CliContext, spec_path: str, input_: str | None) -> None:
    """Call the PRD model endpoint with JSON input."""
    from automation.workflows.smoke import call_endpoint, predictions_of

    spec = load(spec_path, check_files=False)
    if input_ is None and spec.deployment.smoke is None:
        raise InputError(
            "predict needs --input: the spec has no deployment.smoke.input to send by default",
            hint="pass --input JSON or --input @file.json",
        )
    request = _read_input(input_) if input_ is not None else spec.deployment.smoke.input
    client = ctx.client(spec)
    prd = client.projects.find(spec.projects.prd.name)
    model = client.models.find(prd.id, spec.deployment.model_name) if prd else None
    if model is None:
        raise InputError(
            f"model {spec.deployment.model_name!r} does not exist in PRD project {spec.projects.prd.name!r}",
            hint="run `cmlops bootstrap` first",
        )
    response = call_endpoint(client, model, request)
    ctx.emit({"ok": True, "response": response}, lambda: click.echo(json.dumps(predictions_of(response))))


COMMANDS = [validate, schema, plan, apply, bootstrap, status, predict]


@click.command()
@SPEC_ARG
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--include-prd", is_flag=True, help="Also delete the PRD project, its model and deployments.")
@click.option(
    "--include-registry", is_flag=True, help="Also delete the registered model and all its versions."
)
@pass_ctx
def destroy(ctx: CliContext, spec_path: str, yes: bool, include_prd: bool, include_registry: bool) -> None:
    """Delete what the spec created (DEV by default; PRD only with --include-prd)."""
    from automation.workflows.destroy import destroy as run_destroy
    from automation.workflows.destroy import find_doomed

    spec = load(spec_path, check_files=False)
    client = ctx.client(spec)
    doomed = find_doomed(client, spec, include_prd=include_prd, include_registry=include_registry)
    if not doomed:
        ctx.emit({"ok": True, "deleted": []}, "Nothing to delete.")
        return
    for item in doomed:
        ctx.console.print(f"  - {item.kind:<17} {item.name} ({item.id})", markup=False)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("destroy needs confirmation", hint="pass --yes to delete without a prompt")
        click.confirm(f"Delete these {len(doomed)} resource(s)?", abort=True, err=True)
    count = run_destroy(client, doomed)
    ctx.emit({"ok": True, "deleted": [d.to_dict() for d in doomed]}, f"Deleted {count} resource(s).")


COMMANDS.append(destroy)
