"""The `cmlops` command line: parse, call, render, exit. Nothing else lives here.

Heavy modules (the API client, the spec, MLflow, the local server) are imported inside the
commands that need them so `cmlops --help` and `cmlops validate` start fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from automation import __version__
from automation.cli import context
from automation.cli.context import CliContext, pass_ctx
from automation.cli.help import SectionedGroup, add_example
from automation.errors import EXIT_CODES, EXIT_DECLINED, EXIT_INTERRUPTED, EXIT_USAGE, CmlopsError

_EXIT_TABLE = "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())

# Global options: accepted before the command (`cmlops -o json plan SPEC`) and after it
# (`cmlops plan SPEC -o json`); (flags, CliContext attribute, click option settings).
GLOBAL_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (
        ("--output", "-o"),
        "output",
        {"type": click.Choice(["text", "json"]), "help": "Human text, or one JSON document on stdout."},
    ),
    (
        ("-v", "--verbose"),
        "verbose",
        {"count": True, "help": "A redacted HTTP trace on stderr (keys never shown)."},
    ),
    (
        ("--target", "-t"),
        "target",
        {
            "envvar": "CMLOPS_TARGET",
            "help": "Spec target: local, or a CML workspace target (default: local "
            "unless CML_URL or a profile configures a workspace).",
        },
    ),
    (
        ("--profile", "-p"),
        "profile",
        {
            "envvar": "CMLOPS_PROFILE",
            "help": "Workspace profile saved by `cmlops configure` (default: default).",
        },
    ),
    (("--url",), "url", {"help": "Workspace URL (overrides CML_URL, the profile and the spec)."}),
    (("--ca-bundle",), "ca_bundle", {"type": click.Path(), "help": "CA bundle (PEM) for TLS verification."}),
    (("--insecure",), "insecure", {"is_flag": True, "help": "Disable TLS verification (not recommended)."}),
    (
        ("--state-dir",),
        "state_dir",
        {
            "envvar": "CMLOPS_STATE_DIR",
            "type": click.Path(),
            "help": "Local workspace state folder (default: "
            ".cmlops at the repo root of the spec, else of the current folder; `cmlops local status` shows it).",
        },
    ),
]


def _global_options(f: Any) -> Any:
    for flags, attr, settings in reversed(GLOBAL_OPTIONS):
        extra = {"default": "text", "show_default": True} if attr == "output" else {}
        f = click.option(*flags, attr, **settings, **extra)(f)
    return f


@click.group(
    cls=SectionedGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=f'Global options go before or after the command. Shell completion: eval "$(cmlops completion '
    f'bash)" (or zsh, fish).\n\nExit codes:\n\n\b\n{_EXIT_TABLE}\n\nWith no workspace configured '
    "(CML_URL unset, no profile), commands run against the embedded local workspace, started on demand.",
)
@click.version_option(__version__, "--version", prog_name="cmlops")
@_global_options
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """cmlops: the MLOps loop of Cloudera Machine Learning (CML), as code.

    Create DEV and PRD projects, run the training job, register the MLflow model and deploy it
    as a PRD model endpoint through CML's REST API v2, or on the embedded local workspace.

    \b
    Start here:
      cmlops init wine && cd wine && cmlops bootstrap specs/wine-quality.yaml
    """
    ctx.obj = CliContext(**options)


def _setter(attr: str) -> Any:
    def set_value(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False or (attr == "verbose" and not value):
            return
        obj = ctx.find_object(CliContext)
        if attr == "verbose":
            obj.verbose += value
        else:
            setattr(obj, attr, value)

    return set_value


def _accept_global_flags_after(command: click.Command, path: str = "") -> None:
    """`cmlops plan SPEC -o json -t cml` works like `cmlops -o json -t cml plan SPEC`."""
    path = f"{path} {command.name}".strip()
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_global_flags_after(sub, path)
        return
    add_example(command, path)
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for flags, attr, settings in GLOBAL_OPTIONS:
        free = [f for f in flags if f not in taken]
        if not free or flags[0] in taken:
            continue
        local = {k: v for k, v in settings.items() if k != "envvar"}
        if not local.get("is_flag") and not local.get("count"):
            local["default"] = None
        command.params.append(
            click.Option(
                free,
                expose_value=False,
                callback=_setter(attr),
                **{**local, "help": "Same as the global option."},
            )
        )


def _register() -> None:
    from automation.cli import (
        amp_cmds,
        init_cmds,
        local_cmds,
        migrate_cmds,
        promote_cmds,
        spec_cmds,
        workspace_cmds,
    )

    for module in (init_cmds, workspace_cmds, spec_cmds, migrate_cmds, local_cmds, promote_cmds, amp_cmds):
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
        click.echo("declined: nothing was changed", err=True)
        sys.exit(EXIT_DECLINED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code in (1, 2) else exc.exit_code)
    except KeyboardInterrupt:
        if context.CURRENT is not None:
            context.CURRENT.close()
        click.echo("interrupted: re-run the same command to finish the work", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(0)


def _report(exc: CmlopsError) -> None:
    from automation.cli import github

    ctx = context.CURRENT
    if ctx is not None:
        ctx.close()
    if github.in_actions():
        click.echo(github.error_annotation(exc), err=True)
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
