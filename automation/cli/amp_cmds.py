"""`cmlops amp ...`: validate, plan, launch, export and import AMPs (``.project-metadata.yaml``)."""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from automation.cli.context import CliContext, pass_ctx, stdin_is_tty
from automation.cli.spec_cmds import MODEL_OPTION
from automation.errors import EXIT_USAGE, CmlopsError, InputError

PATH_ARG = click.argument("path", metavar="PATH", type=click.Path())
STRICT = click.option(
    "--strict", is_flag=True, help="Unknown keys are errors (by default warnings: CML ignores them)."
)
_SYMBOL = {
    "create": "+",
    "update": "~",
    "upload": "^",
    "run": ">",
    "build": "B",
    "deploy": "D",
    "start": ">",
    "restart": ">",
    "wait": "...",
    "reuse": "=",
    "skip": "=",
}


def _launch_options(f: Any) -> Any:
    options = [
        click.option("--project", "project", default=None, help="Project name (default: the AMP's name)."),
        click.option(
            "--env",
            "env_pairs",
            multiple=True,
            metavar="NAME=VALUE",
            help="Value of an AMP environment variable (repeatable); others take their defaults.",
        ),
        click.option(
            "--git-url", default=None, help="Create the project from this git URL instead of uploading."
        ),
        click.option("--git-ref", default=None, help="Branch or tag to check out (with --git-url)."),
        click.option(
            "--rerun", is_flag=True, help="Run jobs and sessions again even if they already succeeded."
        ),
        STRICT,
        click.option(
            "--runtime-id", default=None, help="Runtime image identifier to use instead of the AMP's runtime."
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _esc(value: Any) -> str:
    """User text (names from the AMP file) is never read as rich markup."""
    from rich.markup import escape

    return escape(str(value))


def _warnings(ctx: CliContext, warnings: list[Any]) -> None:
    for warning in warnings:
        ctx.console.print(
            f"[yellow]warning:[/yellow] {warning}", markup=True, highlight=False, soft_wrap=True
        )


def _prompt(name: str, var: Any) -> str:
    from automation.amp.inputs import is_secret_name

    label = f"{name}" + (f" ({var.description.strip()})" if var.description.strip() else "")
    return click.prompt(label, default="", show_default=False, hide_input=is_secret_name(name), err=True)


def _render_plan(ctx: CliContext, plan: Any) -> None:
    where = "existing" if plan.project_exists else "new"
    runtime = " / ".join(plan.runtime.values())
    ctx.console.print(
        f"[bold]AMP[/bold] {_esc(repr(plan.amp))} -> {where} project {_esc(repr(plan.project))} (runtime {runtime})"
    )
    for step in plan.steps:
        _print_step(ctx, step, plan=True)
    for note in plan.notes:
        ctx.console.print(f"  [dim]note: {_esc(note)}[/dim]", highlight=False, soft_wrap=True)
    n = sum(1 for s in plan.steps if s.is_change)
    ctx.console.print(f"{n} step(s) to do, {len(plan.steps) - n} already done.")


def _print_step(ctx: CliContext, step: Any, *, plan: bool) -> None:
    where = f"task {step.index}" if step.index is not None else step.task
    style = "dim" if step.action in ("reuse", "skip") else "bold"
    line = f"[{style}]{_SYMBOL.get(step.action, '?'):>3} {step.action:<7} {where:<11} {_esc(step.title)}[/{style}]"
    if step.reason:
        line += f"  [dim]({_esc(step.reason)})[/dim]"
    ctx.console.print(line, highlight=False, soft_wrap=True)
    if plan and ctx.verbose:
        for call in step.calls:
            ctx.console.print(f"                      {call}", markup=False, highlight=False)


def _step_printer(ctx: CliContext):
    def on_step(step: Any, phase: str) -> None:
        if phase == "decided":
            _print_step(ctx, step, plan=False)
        elif phase == "failed":
            ctx.console.print(f"  [red]failed[/red]: {_esc(step.title)}", highlight=False, soft_wrap=True)

    return on_step


@contextlib.contextmanager
def _source(ctx: CliContext, path: str, ref: str | None = None) -> Iterator[tuple[str, str | None]]:
    """(local path, repository URL or None): a git URL is shallow-cloned into a temporary folder."""
    from automation.amp.loader import clone_repo, is_repo_url

    if not is_repo_url(path):
        yield path, None
        return
    with tempfile.TemporaryDirectory(prefix="cmlops-amp-") as tmp:
        ctx.console.print(f"cloning {_esc(path)} ...", highlight=False, soft_wrap=True)
        yield str(clone_repo(path, Path(tmp) / "repo", ref)), path


@click.group()
def amp() -> None:
    """Applied ML Prototypes: validate, plan, launch, export and import `.project-metadata.yaml` files.

    PATH is an AMP file, a folder (repository checkout) holding `.project-metadata.yaml`, or a git URL
    (cloned; a launch then creates the project from that URL, as CML does). Launches
    run against the chosen target (the local workspace by default), through API v2 only.
    """


@amp.command("validate")
@PATH_ARG
@click.option("--no-files", is_flag=True, help="Do not check that the scripts the tasks name exist.")
@STRICT
@pass_ctx
def validate_cmd(ctx: CliContext, path: str, no_files: bool, strict: bool) -> None:
    """Check an AMP file: fields, task types, entity labels, scripts, and that cmlops can launch what
    it asks for. Exit 2 when it is invalid (or cannot be launched)."""
    from automation.amp.validate import validate_amp

    with _source(ctx, path) as (local, _):
        report = validate_amp(local, check_files=not no_files, strict=strict)
    data = report.to_dict()

    def text() -> None:
        _warnings(ctx, report.warnings)
        if report.ok:
            amp_file = report.loaded.amp  # type: ignore[union-attr]
            click.echo(f"{report.file}: valid AMP {amp_file.name!r} ({len(amp_file.tasks)} tasks)")
        for error in report.errors:
            click.echo(f"error: {error.message}", err=True)
            if error.hint:
                click.echo(f"  hint: {error.hint}", err=True)
        if len(report.errors) > 1:
            click.echo(f"{len(report.errors)} problems in {report.file}", err=True)

    ctx.emit(data, text)
    if not report.ok:
        sys.exit(EXIT_USAGE)


@amp.command("plan")
@PATH_ARG
@_launch_options
@click.option("--offline", is_flag=True, help="Do not read the workspace: plan as for an empty one.")
@pass_ctx
def plan_cmd(
    ctx: CliContext,
    path: str,
    project: str | None,
    env_pairs: tuple[str, ...],
    git_url: str | None,
    git_ref: str | None,
    rerun: bool,
    strict: bool,
    runtime_id: str | None,
    offline: bool,
) -> None:
    """Show the API v2 calls a launch would make, and what is already done (reads only)."""
    from automation.amp.files import upload_set
    from automation.amp.inputs import choose_environment, parse_env_pairs
    from automation.amp.plan import build_plan, observe
    from automation.amp.validate import load_valid_amp

    with _source(ctx, path, git_ref) as (local, url):
        loaded, warnings = load_valid_amp(local, strict=strict)
        git_url = git_url or url
        name = project or loaded.amp.name
        files = None if git_url else upload_set(loaded.file, loaded.amp)
        observed = (
            None if offline else observe(ctx.client(), loaded, name, files, runtime_identifier=runtime_id)
        )
        project_env = observed.project.environment if observed and observed.project else None
        choice = choose_environment(loaded.amp, parse_env_pairs(env_pairs), project_env)
        the_plan = build_plan(
            loaded,
            project_name=name,
            environment=choice.values,
            observed=observed,
            files=files,
            git_url=git_url,
            rerun=rerun,
            kept=choice.kept,
        )
    if choice.missing:
        the_plan.notes.append(
            f"required variables without a value (launch asks or fails): {', '.join(choice.missing)}"
        )

    def text() -> None:
        _warnings(ctx, warnings)
        _render_plan(ctx, the_plan)

    ctx.emit({"ok": True, **the_plan.to_dict(), "warnings": [w.to_dict() for w in warnings]}, text)


@amp.command("launch")
@PATH_ARG
@_launch_options
@click.option("--timeout", type=click.IntRange(min=1), default=None, help="Seconds any single wait may take.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def launch_cmd(
    ctx: CliContext,
    path: str,
    project: str | None,
    env_pairs: tuple[str, ...],
    git_url: str | None,
    git_ref: str | None,
    rerun: bool,
    strict: bool,
    runtime_id: str | None,
    timeout: int | None,
    yes: bool,
) -> None:
    """Create (or continue) the AMP's project and run its tasks in order, waiting as CML does.

    Re-running the same launch continues where it stopped: jobs, models and applications are found
    by name, successful runs are not repeated, built builds are reused.
    """
    with _source(ctx, path, git_ref) as (local, url):
        _launch(
            ctx, local, git_url or url, project, env_pairs, git_ref, rerun, strict, runtime_id, timeout, yes
        )


def _launch(
    ctx: CliContext,
    path: str,
    git_url: str | None,
    project: str | None,
    env_pairs: tuple[str, ...],
    git_ref: str | None,
    rerun: bool,
    strict: bool,
    runtime_id: str | None,
    timeout: int | None,
    yes: bool,
) -> None:
    from automation.amp.files import upload_set
    from automation.amp.inputs import choose_environment, parse_env_pairs, resolve_environment
    from automation.amp.launch import Launcher, LaunchOptions, Timeouts
    from automation.amp.plan import build_plan, observe
    from automation.amp.validate import load_valid_amp

    loaded, warnings = load_valid_amp(path, strict=strict)
    if git_ref and not git_url:
        raise InputError("--git-ref needs --git-url (or a git URL as PATH)")
    interactive = stdin_is_tty() and not ctx.json
    name = project or loaded.amp.name
    _warnings(ctx, warnings)
    client = ctx.client()
    files = None if git_url else upload_set(loaded.file, loaded.amp)
    existing = client.projects.find(name)  # a required variable the project holds is satisfied
    project_env = existing.environment if existing else None
    overrides = parse_env_pairs(env_pairs)
    values = resolve_environment(
        loaded.amp, overrides, prompt=_prompt if interactive else None, project_env=project_env
    )
    observed = observe(client, loaded, name, files, runtime_identifier=runtime_id)
    the_plan = build_plan(
        loaded,
        project_name=name,
        environment=values,
        observed=observed,
        files=files,
        git_url=git_url,
        rerun=rerun,
        kept=choose_environment(loaded.amp, overrides, project_env).kept,
    )
    _render_plan(ctx, the_plan)
    if interactive and not yes and the_plan.has_changes:
        click.confirm(f"Launch into {client.http.base_url}?", abort=True, err=True)
    timeouts = Timeouts()
    if timeout:
        timeouts = Timeouts(*(timeout,) * 5)
    options = LaunchOptions(
        project_name=name,
        environment=values,
        git_url=git_url,
        git_ref=git_ref,
        rerun=rerun,
        runtime_identifier=runtime_id,
        timeouts=timeouts,
        files=files,
    )
    ctx.console.print(
        f"[bold]launching[/bold] {_esc(repr(loaded.amp.name))} into project {_esc(repr(name))}",
        highlight=False,
    )
    launcher = Launcher(client, loaded, options, on_step=_step_printer(ctx), on_progress=ctx.progress)
    try:
        result = launcher.run()
    except CmlopsError as exc:
        if ctx.json:
            click.echo(json.dumps(launcher.result.to_dict(), indent=2, default=str))
            sys.exit(exc.exit_code)
        raise

    def text() -> None:
        done = sum(1 for s in result.steps if s.status == "done")
        click.echo(
            f"Launched {result.amp!r} in project {result.project!r} ({result.project_id}): "
            f"{done} step(s) done, {len(result.steps) - done} already done."
        )

    ctx.emit(result.to_dict(), text)


def _write(ctx: CliContext, text: str, out: str | None, force: bool, what: str) -> None:
    if out is None:
        if ctx.json:
            ctx.emit({"ok": True, "text": text})
        else:
            click.echo(text, nl=False)
        return
    target = Path(out)
    if target.exists() and not force:
        raise InputError(
            f"{out} exists; not overwriting it", hint="pass --force, or choose another --file FILE"
        )
    target.write_text(text, encoding="utf-8")
    ctx.emit({"ok": True, "written": str(target)}, f"wrote {what} {target}")


@amp.command("export")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
@click.option(
    "--file",
    "out",
    default=None,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="File to write, at the root of the repository it describes (default: stdout). -o/--output is the output format, as everywhere.",
)
@click.option("--author", default="cmlops", show_default=True, help="The AMP's author field.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@MODEL_OPTION
@pass_ctx
def export_cmd(
    ctx: CliContext, spec_path: str, out: str | None, author: str, force: bool, model_name: str | None
) -> None:
    """Write a .project-metadata.yaml doing what a cmlops spec does for one model: its training job
    (and the jobs it runs after) and its endpoint.

    With -o, scripts the AMP needs that the repository lacks (its model function) are written too.
    """
    from automation.amp.convert import export_amp
    from automation.amp.loader import parse_amp_text
    from automation.amp.validate import validate_loaded
    from automation.errors import SpecError
    from automation.spec import load_spec

    try:  # ${VAR:-default} export as their defaults, not as this machine's values
        spec = load_spec(spec_path, environ={})
    except SpecError:
        spec = load_spec(spec_path)
    root = Path(out).resolve().parent if out else Path(spec.repo_root)
    exported = export_amp(spec, author=author, root=root, model=model_name)
    if exported.files and out is None:
        raise InputError(
            f"the exported AMP needs {', '.join(exported.files)}, which {root} lacks; on stdout it cannot "
            "come with it",
            hint=f"write the export into the repository: --file {root / '.project-metadata.yaml'} (the script is "
            "written beside it)",
        )
    report = validate_loaded(parse_amp_text(exported.text, root=root), pending=frozenset(exported.files))
    report.raise_first()  # the export is checked like any AMP before anything is written
    if out is not None and Path(out).exists() and not force:
        raise InputError(
            f"{out} exists; not overwriting it", hint="pass --force, or choose another --file FILE"
        )
    for rel, content in exported.files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content, encoding="utf-8")
        ctx.console.print(f"wrote {_esc(root / rel)}", highlight=False)
    _write(ctx, exported.text, out, force, "AMP file")


@amp.command("import")
@PATH_ARG
@click.option(
    "--file",
    "out",
    default=None,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="File to write (default: stdout). -o/--output is the output format, as everywhere.",
)
@click.option(
    "--git-url", default=None, help="Make the DEV project clone this repository (else upload the scripts)."
)
@click.option("--git-ref", default=None, help="Branch or tag (with --git-url).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option(
    "--training-job",
    default=None,
    metavar="NAME",
    help="The job or session that trains (default: the one whose script logs an MLflow model).",
)
@pass_ctx
def import_cmd(
    ctx: CliContext,
    path: str,
    out: str | None,
    git_url: str | None,
    git_ref: str | None,
    force: bool,
    training_job: str | None,
) -> None:
    """Write a cmlops spec from an AMP (the flagship's defaults fill what the AMP lacks).

    The training job is the job or session whose script logs the model (read from the AMP's folder or
    clone), or the one named with --training-job; a job installing packages before it becomes the
    install step. Other jobs are left out and named. Exit 2 saying why when no sound mapping exists.
    """
    from automation.amp.convert import import_amp
    from automation.amp.mapping import map_amp
    from automation.amp.validate import load_valid_amp
    from automation.spec import parse_spec

    with _source(ctx, path, git_ref) as (local, url):
        loaded, _ = load_valid_amp(local, check_files=False)  # scripts not at hand: --training-job
        if url and not git_url and not url.startswith("file://"):
            git_url = url
        mapping = map_amp(loaded, training_job)
        text = import_amp(loaded, git_url=git_url, git_ref=git_ref if git_url else None, mapping=mapping)
    for why in mapping.left_out:
        click.echo(f"note: left out {why}", err=True)
    parse_spec(text, file=out or "<imported spec>", environ={})  # the result must load as a spec
    _write(ctx, text, out, force, "spec")


COMMANDS = [amp]
