"""`cmlops local ...`: the embedded local workspace."""

from __future__ import annotations

import click

from automation.cli.context import CliContext, pass_ctx


@click.group()
def local() -> None:
    """Start, stop and inspect the embedded local workspace (API v2 on 127.0.0.1)."""


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

    info = server_status(ctx.local_state_dir())
    ctx.emit({"ok": True, **info}, lambda: [click.echo(f"{k:>18}: {v}") for k, v in info.items()])


@local.command()
@click.argument("what", default="server", metavar="[server|JOB_RUN_ID]")
@pass_ctx
def logs(ctx: CliContext, what: str) -> None:
    """Print the server log, or the log of one job run."""
    from automation.local.control import read_log

    text = read_log(ctx.local_state_dir(), what)
    ctx.emit({"ok": True, "log": text}, lambda: click.echo(text, nl=False))


COMMANDS = [local]
