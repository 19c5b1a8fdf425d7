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

    def show() -> None:
        for key, value in info.items():
            if key == "next_scheduled_runs":
                runs = [f"{r['at']}  {r['job']} [{r['job_id']}]  {r['schedule']}" for r in value]
                click.echo(f"{key:>18}: " + ("\n" + " " * 20).join(runs or ["none"]))
            else:
                click.echo(f"{key:>18}: {value}")

    ctx.emit({"ok": True, **info}, show)


@local.command()
@click.option("--no-browser", is_flag=True, help="Only print the login link; do not open a browser.")
@pass_ctx
def ui(ctx: CliContext, no_browser: bool) -> None:
    """Start (or reuse) the local workspace and print a one-time login link to its web UI.

    The page shows projects, jobs and runs, models, builds and deployments, an endpoint test box,
    applications and the promotion history; MLflow's UI (experiments, registry) is under /mlflow/.
    The link works once, within minutes; the login page also takes the workspace key.
    """
    from automation.local.control import ui_login

    info = ui_login(ctx.local_state_dir())
    opened = False
    if not no_browser and not ctx.json and _has_display():
        import webbrowser

        try:
            opened = webbrowser.open(info["login_url"])
        except webbrowser.Error:
            opened = False
    minutes = info["expires_in"] // 60

    def text() -> None:
        click.echo(f"web UI: {info['url']}")
        click.echo(f"log in (once, within {minutes} minutes): {info['login_url']}")
        if opened:
            click.echo("opened in your browser")

    ctx.emit({"ok": True, **info, "opened_browser": opened}, text)


def _has_display() -> bool:
    """A graphical browser can open: macOS and Windows always, elsewhere with an X or Wayland display."""
    import os
    import sys

    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


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
