"""`cmlops local ...`: the embedded local workspace."""

from __future__ import annotations

from pathlib import Path

import click

from automation.cli.context import CliContext, pass_ctx, require_local_extra


@click.group()
def local() -> None:
    """Start, stop and inspect the embedded local workspace (API v2 on 127.0.0.1)."""
    require_local_extra()


@local.command()
@click.option("--port", type=int, default=None, help="Port to listen on (default: a free port).")
@pass_ctx
def start(ctx: CliContext, port: int | None) -> None:
    """Start the local workspace (or report the one already running)."""
    from automation.local.control import ensure_running
    from automation.local.control import start as start_server

    state_dir = ctx.local_state_dir()
    ws = start_server(state_dir, port=port) if port else ensure_running(state_dir)
    ctx.emit(
        {
            "ok": True,
            "url": ws.url,
            "model_service_url": ws.model_service_url,
            "pid": ws.pid,
            "state_dir": str(ws.state_dir),
        },
        f"local workspace at {ws.url} (pid {ws.pid}, state in {ws.state_dir})",
    )


@local.command()
@pass_ctx
def stop(ctx: CliContext) -> None:
    """Stop the local workspace and its model deployments."""
    from automation.local.control import stop as stop_server

    stopped = stop_server(ctx.local_state_dir())
    ctx.emit({"ok": True, "stopped": stopped}, "stopped" if stopped else "not running")


@local.command()
@pass_ctx
def status(ctx: CliContext) -> None:
    """Show whether the local workspace runs, where, and what it holds."""
    from automation.local.control import status as server_status

    state_dir, origin = ctx.local_state_dir_and_origin()
    info = {**server_status(state_dir), "state_dir_from": origin}
    ctx.emit({"ok": True, **info}, lambda: [click.echo(f"{k:>18}: {v}") for k, v in info.items()])


@local.command()
@click.argument("what", default="server", metavar="[server|JOB_RUN_ID|BUILD_ID|DEPLOYMENT_ID]")
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing as the log grows, until the run ends (or Ctrl-C)."
)
@pass_ctx
def logs(ctx: CliContext, what: str, follow: bool) -> None:
    """Print the server log, or the log of one job run, model build or deployment."""
    from automation.errors import InputError
    from automation.local.control import follow_log, read_log

    if follow:
        if ctx.json:
            raise InputError("--follow prints the log as text", hint="drop -o json, or leave out --follow")
        for chunk in follow_log(ctx.local_state_dir(), what):
            click.echo(chunk, nl=False)
        return
    text = read_log(ctx.local_state_dir(), what)
    ctx.emit({"ok": True, "log": text}, lambda: click.echo(text, nl=False))


@local.command()
@click.option(
    "--python",
    "pythons",
    multiple=True,
    metavar="X.Y",
    help="Build the runtime of this Python (repeatable; default: every Python offered here).",
)
@click.option(
    "--wheelhouse",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also download the wheels projects install (-r files, cmlops itself) into this folder.",
)
@click.option(
    "-r",
    "--requirements",
    "requirements",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A requirements file whose wheels go into --wheelhouse (repeatable).",
)
@pass_ctx
def prepare(
    ctx: CliContext, pythons: tuple[str, ...], wheelhouse: Path | None, requirements: tuple[Path, ...]
) -> None:
    """Build the runtime environments (and a wheelhouse) so local workspaces run offline.

    \b
    Example:
      cmlops local prepare --python 3.10 --wheelhouse ~/.cache/cmlops/wheelhouse -r requirements.txt
    Then start workspaces with CMLOPS_LOCAL_PIP_FIND_LINKS=<wheelhouse> CMLOPS_LOCAL_PIP_NO_INDEX=1.
    """
    import logging

    from automation.errors import CmlopsError, InputError
    from automation.local.workloads.runtime.environments import RuntimeUnavailable
    from automation.local.workloads.runtime.prepare import check_pythons
    from automation.local.workloads.runtime.prepare import prepare as run_prepare

    try:
        chosen = check_pythons(list(pythons))
    except ValueError as exc:
        raise InputError(str(exc), hint="cmlops runtimes lists what the local workspace offers") from None
    if requirements and wheelhouse is None:
        raise InputError("-r/--requirements needs --wheelhouse DIR (where the wheels go)")
    log = logging.getLogger("cmlops.prepare")
    try:
        report = run_prepare(chosen, requirements=list(requirements), wheelhouse=wheelhouse, log=log)
    except RuntimeUnavailable as exc:
        raise CmlopsError(
            str(exc), hint="the first build needs the package index (PyPI or a mirror)"
        ) from None
    built = ", ".join(f"Python {p} ({s:.1f} s)" for p, s in report.runtimes.items())
    text = f"runtime environments ready: {built}"
    if report.wheelhouse:
        text += f"; {report.wheels} wheels in {report.wheelhouse}"
    ctx.emit({"ok": True, **report.to_dict()}, text)


COMMANDS = [local]
