"""Spec-driven commands: validate, schema, plan, apply, bootstrap, status, predict, destroy."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from automation.cli.context import CliContext, pass_ctx, stdin_is_tty
from automation.cli.tables import format_table, metrics_text
from automation.errors import EXIT_APPROVAL, EXIT_CHANGES, InputError

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


def load(spec_path: str, *, check_files: bool = True, ctx: CliContext | None = None) -> Any:
    """The spec at ``spec_path`` (files checked); with ``ctx``, as applied to the --target picked
    (that target's overrides merged in)."""
    from automation.spec import check_files as check
    from automation.spec import load_spec

    spec = load_spec(spec_path)
    if check_files:
        check(spec, spec.repo_root)
    if ctx is not None:
        spec = spec.for_target(ctx.target_kind(spec)[0])
    return spec


MODEL_OPTION = click.option(
    "--model",
    "model_name",
    metavar="NAME",
    default=None,
    help="The registered model (a key of the spec's models:); needed when the spec has several.",
)


def migrate_note(spec: Any, spec_path: str) -> str | None:
    """What to say about a version 1 file: it still works, and how to rewrite it."""
    if spec.source_version != 1:
        return None
    return f"note: {spec_path} is a version 1 spec; `cmlops migrate {spec_path} --in-place` rewrites it as version 2"


def render_plan(ctx: CliContext, plan: Any, console: Any = None) -> None:
    """The plan, one action a line: on stdout for `plan`, on stderr (progress) for apply and bootstrap."""
    console = console or ctx.console
    for a in plan.actions:
        style = "dim" if a.kind == "noop" else "bold"
        line = f"[{style}]{_SYMBOL.get(a.kind, '?'):>3} {a.kind:<8} {a.resource:<16} {a.name}[/{style}]"
        if a.reason:
            line += f"  [dim]({a.reason})[/dim]"
        console.print(line)
        if a.destroys:
            console.print(f"        [bold red]destroys[/bold red]: {a.destroys}", highlight=False)
        for fld, (cur, new) in list(a.changes.items())[:12]:
            console.print(f"        {fld}: {_shown(cur)} -> {_shown(new)}", markup=False, highlight=False)
    n = len(plan.changes)
    console.print(
        f"{n} change(s), {len(plan.actions) - n} up to date, {plan.reads} read request(s)."
        if n
        else f"No changes: the workspace matches the spec ({plan.reads} read requests)."
    )


def _shown(value: Any) -> str:
    """A planned value for people: absent as (none), the rest as JSON (no Python reprs)."""
    return "(none)" if value is None else json.dumps(value, default=str)


AUTO_APPROVE = click.option(
    "--auto-approve",
    is_flag=True,
    help=f"Delete or stop what the plan lists without asking (CI). Without it, a plan that deletes "
    f"or stops something asks on a terminal and exits {EXIT_APPROVAL} elsewhere, changing nothing.",
)


def confirmed(ctx: CliContext, header: str, items: list[str], question: str, *, approved: bool) -> bool:
    """List ``items`` (what would be deleted or stopped), then ask on a terminal; False without one."""
    ctx.console.print(f"[bold red]{header}[/bold red]")
    for item in items:
        ctx.console.print(f"  - {item}", markup=False)
    if approved:
        return True
    if not stdin_is_tty():
        return False
    return click.confirm(question, default=False, err=True)


def _approver(ctx: CliContext, auto_approve: bool):
    def approve(actions: list[Any]) -> bool:
        return confirmed(
            ctx,
            "Destructive (deleted or stopped by this apply):",
            [a.destroys for a in actions],
            "Apply, including these?",
            approved=auto_approve,
        )

    return approve


def _step_printer(ctx: CliContext):
    def on_step(action: Any, phase: str) -> None:
        if phase == "start":
            ctx.reporter.step(
                f"{_SYMBOL.get(action.kind, '?'):>3} {action.kind} {action.resource} {action.name}"
            )
        else:
            ctx.reporter.step_done(phase)

    return on_step


@click.command()
@SPEC_ARG
@pass_ctx
def validate(ctx: CliContext, spec_path: str) -> None:
    """Check a spec offline: schema, variables, and that the files it names exist."""
    spec = load(spec_path)
    note = migrate_note(spec, spec_path)
    data = {"ok": True, "spec": str(Path(spec_path)), "name": spec.name, "version": spec.source_version}
    ctx.emit(
        {**data, **({"note": note} if note else {})},
        f"{spec_path}: valid (spec {spec.name!r})" + (f"\n{note}" if note else ""),
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

    spec = load(spec_path, ctx=ctx)
    the_plan, _, _ = make_plan(ctx.client(spec), spec, retrain=retrain)
    ctx.emit({"ok": True, **the_plan.to_dict()}, lambda: render_plan(ctx, the_plan, ctx.stdout_console))
    _plan_to_github(spec_path, the_plan)
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)


def _plan_to_github(spec_path: str, the_plan: Any) -> None:
    """Under GitHub Actions: the plan as a job summary table and a notice on the spec file."""
    from automation.cli import github

    if not github.in_actions():
        return
    github.add_summary(github.plan_summary(spec_path, the_plan))
    n = len(the_plan.changes)
    text = f"{n} change(s) planned" if n else "no changes: the workspace matches the spec"
    click.echo(github.annotation("notice", text, file=spec_path, line=1, title="cmlops plan"), err=True)


@click.command()
@SPEC_ARG
@click.option("--retrain", is_flag=True, help="Run the training job again even if a good run exists.")
@AUTO_APPROVE
@pass_ctx
def apply(ctx: CliContext, spec_path: str, retrain: bool, auto_approve: bool) -> None:
    """Make the workspace match the spec (idempotent; safe to interrupt and re-run).

    A plan that deletes or stops something (a model replaced) lists it and asks first."""
    from automation.workflows.bootstrap import apply_spec

    spec = load(spec_path, ctx=ctx)
    client = ctx.client(spec)
    the_plan, obs, result = apply_spec(
        client,
        spec,
        retrain=retrain,
        on_plan=lambda p: render_plan(ctx, p),
        on_step=_step_printer(ctx),
        on_progress=ctx.progress,
        approve=_approver(ctx, auto_approve),
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
@AUTO_APPROVE
@pass_ctx
def bootstrap(ctx: CliContext, spec_path: str, retrain: bool, auto_approve: bool) -> None:
    """Validate, plan, apply, then smoke-test the PRD endpoint and print a summary.

    Takes an empty workspace to a serving PRD model endpoint; re-running changes nothing.
    """
    from automation.workflows.bootstrap import bootstrap as run_bootstrap

    spec = load(spec_path, ctx=ctx)
    client = ctx.client(spec)
    ctx.console.print(f"[bold]cmlops bootstrap[/bold] {spec.name} on {client.http.base_url}")
    result = run_bootstrap(
        client,
        spec,
        retrain=retrain,
        on_plan=lambda p: render_plan(ctx, p),
        on_step=_step_printer(ctx),
        on_progress=ctx.progress,
        approve=_approver(ctx, auto_approve),
    )

    def text() -> None:
        s = result.summary
        rows = [
            ("DEV project", s["dev_project_id"]),
            ("PRD project", s["prd_project_id"]),
            ("job run", f"{s['job_run_id']} {s['job_run_status']}"),
            ("MLflow run", s["mlflow_run_id"]),
            ("metrics", metrics_text(s["metrics"])),
            (
                "registered model",
                f"{', '.join(spec.models)} ({s['registered_model_id']}) version {s['model_version']}",
            ),
            ("model", s["model_id"]),
            ("build", s["build_id"]),
            ("deployment", s["deployment_id"]),
            ("endpoint", s["endpoint_url"]),
        ]
        if ui:
            rows.append(("web UI", f"{ui} (cmlops local ui logs you in)"))
        for label, value in rows:
            click.echo(f"{label:>17}: {value}")
        click.echo(f"{'smoke prediction':>17}: {json.dumps(s['smoke_prediction'])}")

    ui = ctx.local_ui_url(client.http.base_url)
    ctx.emit({**result.to_dict(), **({"ui_url": ui} if ui else {})}, text)


@click.command()
@SPEC_ARG
@MODEL_OPTION
@pass_ctx
def status(ctx: CliContext, spec_path: str, model_name: str | None) -> None:
    """Show what exists of the spec in the workspace, and its state (--model: one model's rows)."""
    from automation.reconcile import make_plan, summary_ids
    from automation.workflows.smoke import liveness

    spec = load(spec_path, check_files=False, ctx=ctx)
    shown = [spec.model_named(model_name).registered_name] if model_name else list(spec.models)
    client = ctx.client(spec)
    the_plan, obs, _ = make_plan(client, spec)
    summary = summary_ids(obs)
    in_sync = not the_plan.has_changes
    for name in shown:
        m, smoke = obs.models[name], spec.models[name].endpoint.smoke
        if m.model is not None and m.deployment is not None and smoke is not None:
            answer = summary["models"][name]["endpoint"] = liveness(client, m.model, smoke)
            in_sync = in_sync and answer == "answers"  # "deployed" that does not answer is not
    first = summary["models"][shown[0]]
    if "endpoint" in first:
        summary["endpoint"] = first["endpoint"]
    for app in summary["applications"].values():
        app["url"] = _application_url(ctx, client.http.base_url, app)
    data = {"ok": True, "summary": summary, "in_sync": in_sync}
    ui = ctx.local_ui_url(client.http.base_url)
    if ui:
        data["ui_url"] = ui

    def text() -> None:
        for line in format_table(status_rows(spec, summary, shown)):
            click.echo(line)
        for name in shown:
            if "endpoint" in summary["models"][name]:
                click.echo(f"endpoint {name}: {summary['models'][name]['endpoint']}")
        click.echo(f"in sync: {'yes' if in_sync else 'no (cmlops plan shows the changes)'}")
        if ui:
            click.echo(f"web UI: {ui} (cmlops local ui logs you in)")

    ctx.emit(data, text)


def _application_url(ctx: CliContext, base_url: str, app: dict[str, Any]) -> str | None:
    """Where an application answers: CML serves it at https://<subdomain>.<workspace host>; the
    local workspace on the loopback port it gave the application (API v2 has no field for either)."""
    if not app.get("id"):
        return None
    if ctx.local_workspace_dir is None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        return f"{parts.scheme}://{app['subdomain']}.{parts.netloc}"
    from automation.local.control import application_url

    return application_url(ctx.local_workspace_dir, app["id"])


def status_rows(spec: Any, s: dict[str, Any], models: list[str] | None = None) -> list[tuple[Any, ...]]:
    """One row per resource of the spec: what it is, its name, its id and its state."""

    def exists(key: str) -> str:
        return "exists" if s[key] else "missing"

    rows: list[tuple[Any, ...]] = [
        ("RESOURCE", "NAME", "ID", "STATE"),
        ("DEV project", spec.projects.dev.name, s["dev_project_id"], exists("dev_project_id")),
    ]
    trained = {spec.models[name].job: s["models"][name] for name in spec.models}
    for job, spec_job in spec.jobs.items():
        m = trained.get(job)
        state = m and m["job_run_status"] and f"last run {m['job_run_id']} {m['job_run_status']}"
        if spec_job.schedule:
            state = f"{state}; " if state else ""
            state += f"cron {spec_job.schedule.cron} ({spec_job.schedule.timezone})"
        rows.append(("job", job, s["jobs"].get(job), state or None))
    for name in models or list(spec.models):
        model, m = spec.models[name], s["models"][name]
        version = f"version {m['model_version']}" if m.get("model_version") else None
        rows += [
            ("experiment", model.experiment, m["experiment_id"], None),
            ("MLflow run", None, m["mlflow_run_id"], metrics_text(m.get("metrics"))),
            ("registered model", name, m["registered_model_id"], version),
        ]
    rows.append(("PRD project", spec.projects.prd.name, s["prd_project_id"], exists("prd_project_id")))
    for name in models or list(spec.models):
        model, m = spec.models[name], s["models"][name]
        rows += [
            ("model", model.endpoint.model_name, m["model_id"], None),
            ("build", None, m["build_id"], m["build_status"]),
            ("deployment", None, m["deployment_id"], m["deployment_status"]),
        ]
    for name, app in s["applications"].items():
        state = " ".join(str(x) for x in (app["status"], app.get("url")) if x) or None
        rows.append(("application", name, app["id"], state))
    return rows


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
@click.option("--curl", is_flag=True, help="Print the curl command that makes this call instead of calling.")
@click.option("--show-secrets", is_flag=True, help="With --curl: show the access key and API key unmasked.")
@MODEL_OPTION
@pass_ctx
def predict(
    ctx: CliContext,
    spec_path: str,
    input_: str | None,
    curl: bool,
    show_secrets: bool,
    model_name: str | None,
) -> None:
    """Call the PRD model endpoint with JSON input (or show the call with --curl)."""
    from automation.workflows.smoke import call_endpoint, predictions_of

    spec = load(spec_path, check_files=False, ctx=ctx)
    endpoint = spec.model_named(model_name).endpoint
    if input_ is None and endpoint.smoke is None:
        raise InputError(
            "predict needs --input: the model's endpoint has no smoke.input to send by default",
            hint="pass --input JSON or --input @file.json",
        )
    request = _read_input(input_) if input_ is not None else endpoint.smoke.input
    client = ctx.client(spec)
    prd = client.projects.find(spec.projects.prd.name)
    model = client.models.find(prd.id, endpoint.model_name) if prd else None
    if model is None:
        raise InputError(
            f"model {endpoint.model_name!r} does not exist in PRD project {spec.projects.prd.name!r}",
            hint="run `cmlops bootstrap` first",
        )
    if curl:
        from automation.cli.context import OUTPUT_REDACTOR
        from automation.cli.curl import curl_call

        call = curl_call(ctx, client, model, request, auth=endpoint.auth, show_secrets=show_secrets)
        with OUTPUT_REDACTOR.showing() if show_secrets else contextlib.nullcontext():
            ctx.emit({"ok": True, **call.to_dict()}, call.text)
        return
    # a model's first call after a (re)start can take seconds: say what is being waited for
    ctx.reporter.note(f"calling model {model.name} at {client.model_service_url} ...")
    response = call_endpoint(client, model, request)
    ctx.emit({"ok": True, "response": response}, lambda: click.echo(json.dumps(predictions_of(response))))


COMMANDS = [validate, schema, plan, apply, bootstrap, status, predict]


@click.command()
@SPEC_ARG
@click.option("--yes", "-y", "--auto-approve", is_flag=True, help="Do not ask for confirmation (CI).")
@click.option("--include-prd", is_flag=True, help="Also delete the PRD project, its model and deployments.")
@click.option(
    "--include-registry", is_flag=True, help="Also delete the registered model and all its versions."
)
@click.option(
    "--force",
    is_flag=True,
    help="Delete the spec's projects (and registered model) even if they hold things the spec did not "
    "create, or were not created by it; what goes with them is listed first.",
)
@pass_ctx
def destroy(
    ctx: CliContext, spec_path: str, yes: bool, include_prd: bool, include_registry: bool, force: bool
) -> None:
    """Delete what the spec created (DEV by default; PRD only with --include-prd).

    Only resources carrying the spec's ownership mark are deleted; a project holding anything else
    (another job, model, application or file) is left and named, unless --force."""
    from automation.errors import ApprovalRequired
    from automation.workflows.destroy import destroy as run_destroy
    from automation.workflows.destroy import find_doomed

    spec = load(spec_path, check_files=False, ctx=ctx)
    client = ctx.client(spec)
    found = find_doomed(client, spec, include_prd=include_prd, include_registry=include_registry, force=force)
    left = [x.describe() for x in found.left]
    if not found.delete:
        ctx.emit(
            {"ok": True, "deleted": [], "left": [x.to_dict() for x in found.left]},
            lambda: (click.echo("Nothing to delete."), _left(left)),
        )
        return
    for item in found.left:
        ctx.console.print(f"  = left: {item.describe()}", markup=False)
    items = [d.describe() for d in found.delete]
    if not confirmed(ctx, "Will delete:", items, f"Delete these {len(items)} resource(s)?", approved=yes):
        raise ApprovalRequired(
            f"destroy was not confirmed; nothing was deleted ({len(items)} resource(s) listed)",
            actions=items,
            hint="pass --yes to delete without a prompt",
        )
    count = run_destroy(client, found.delete)
    ctx.emit(
        {
            "ok": True,
            "deleted": [d.to_dict() for d in found.delete],
            "left": [x.to_dict() for x in found.left],
        },
        lambda: (click.echo(f"Deleted {count} resource(s)."), _left(left)),
    )


def _left(lines: list[str]) -> None:
    if not lines:
        return
    click.echo(f"Left {len(lines)} thing(s):")
    for line in lines:
        click.echo(f"  - {line}")


COMMANDS.append(destroy)
