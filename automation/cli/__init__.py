"""The `cmlops` command line: parse, call, render, exit. Nothing else lives here.

Heavy modules (the API client, the spec, MLflow, the local server) are imported inside the
commands that need them so `cmlops --help` and `cmlops validate` start fast.
"""

from __future__ import annotations

import sys

import click

from automation import __version__
from automation.cli.context import CliContext, pass_ctx
from automation.errors import EXIT_CODES, EXIT_USAGE, CmlopsError

_EXIT_TABLE = "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=f"Exit codes:\n\n\b\n{_EXIT_TABLE}\n\nWith no workspace configured (CML_URL unset), commands run against the "
    "embedded local workspace, started on demand.",
)
@click.version_option(__version__, "--version", prog_name="cmlops")
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human text or one JSON document on stdout.",
)
@click.option("-v", "--verbose", count=True, help="Show a redacted HTTP trace on stderr (keys never shown).")
@click.option(
    "--target",
    "-t",
    default=None,
    envvar="CMLOPS_TARGET",
    help="Spec target to use (local, or a CML workspace target). Default: local unless CML_URL is set.",
)
@click.option("--url", default=None, help="Workspace URL (overrides CML_URL and the spec).")
@click.option("--ca-bundle", default=None, type=click.Path(), help="CA bundle (PEM) for TLS verification.")
@click.option("--insecure", is_flag=True, help="Disable TLS verification (not recommended).")
@click.option(
    "--state-dir",
    default=None,
    envvar="CMLOPS_STATE_DIR",
    type=click.Path(),
    help="Local workspace state folder (default: .cmlops next to the spec, or in the current folder).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    output: str,
    verbose: int,
    target: str | None,
    url: str | None,
    ca_bundle: str | None,
    insecure: bool,
    state_dir: str | None,
) -> None:
    """cmlops: the MLOps loop of Cloudera Machine Learning (CML), as code.

    Create DEV and PRD projects, run the training job, register the MLflow model and deploy it
    as a PRD model endpoint through CML's REST API v2, or on the embedded local workspace.
    """
    ctx.obj = CliContext(
        output=output,
        verbose=verbose,
        target=target,
        url=url,
        ca_bundle=ca_bundle,
        insecure=insecure,
        state_dir=state_dir,
    )


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(CliContext).output = value


def _add_verbosity(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        ctx.find_object(CliContext).verbose += value


def _accept_global_flags_after(command: click.Command) -> None:
    """`cmlops plan SPEC -o json` works like `cmlops -o json plan SPEC` (the flags people put last)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_global_flags_after(sub)
        return
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}

    def free(*names: str) -> list[str]:
        return [n for n in names if n not in taken]

    if free("--output"):
        command.params.append(
            click.Option(
                free("--output", "-o"),
                type=click.Choice(["text", "json"]),
                default=None,
                expose_value=False,
                callback=_set_output,
                help="Same as the global --output.",
            )
        )
    if free("--verbose"):
        command.params.append(
            click.Option(
                free("-v", "--verbose"),
                count=True,
                expose_value=False,
                callback=_add_verbosity,
                help="Same as the global -v.",
            )
        )


def _register() -> None:
    from automation.cli import amp_cmds, local_cmds, promote_cmds, spec_cmds, workspace_cmds

    for module in (workspace_cmds, spec_cmds, local_cmds, promote_cmds, amp_cmds):
        for command in module.COMMANDS:
            _accept_global_flags_after(command)
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps errors to their documented exit codes. Everything written to
    stdout and stderr meanwhile passes through one redactor (known secrets, URL credentials)."""
    from automation.cli.context import OUTPUT_REDACTOR
    from automation.redact import RedactingWriter

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingWriter(out, OUTPUT_REDACTOR), RedactingWriter(err, OUTPUT_REDACTOR)
    try:
        _run(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _run(argv: list[str] | None) -> None:
    try:
        cli.main(args=argv, prog_name="cmlops", standalone_mode=False)
    except CmlopsError as exc:
        _report(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code in (1, 2) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted: re-run the same command to finish the work", err=True)
        sys.exit(130)
    sys.exit(0)


def _report(exc: CmlopsError) -> None:
    from automation.cli import context

    ctx = context.CURRENT
    run_id = getattr(exc, "run_id", None)
    tail = ctx.log_tail(run_id) if run_id and ctx is not None else None
    if ctx is not None and ctx.json:
        import json

        data = {"ok": False, **exc.to_dict()}
        if tail:
            data["log_tail"] = tail.splitlines()
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"  hint: {exc.hint}", err=True)
    if tail:
        click.echo("  last lines of the job run's log:", err=True)
        click.echo("\n".join(f"    | {line}" for line in tail.splitlines()), err=True)


__all__ = ["cli", "main", "pass_ctx"]
