"""Commands about the workspace connection itself: configure, whoami, runtimes, completion."""

from __future__ import annotations

import click

from automation.cli.context import CliContext, pass_ctx


@click.command()
@pass_ctx
def whoami(ctx: CliContext) -> None:
    """Validate the API key and show the user and workspace it belongs to."""
    settings = ctx.settings()
    from automation.api import CMLClient

    client = CMLClient.from_settings(settings, trace=ctx.trace if ctx.verbose else None)
    info = client.validate_key()
    data = {"ok": True, "username": info.username, "valid": info.valid, "workspace": settings.describe()}

    def text() -> None:
        click.echo(f"{info.username} @ {settings.url}")
        if ctx.verbose:
            for key, source in settings.sources.items():
                click.echo(f"  {key} from {source}")

    ctx.emit(data, text)


@click.command()
@click.option("--editor", default=None, help="Only this editor (e.g. Workbench).")
@click.option("--kernel", default=None, help="Only this kernel (e.g. 'Python 3.10').")
@click.option("--edition", default=None, help="Only this edition (e.g. Standard).")
@pass_ctx
def runtimes(ctx: CliContext, editor: str | None, kernel: str | None, edition: str | None) -> None:
    """List the workspace's runtimes (use one in the spec's runtime section)."""
    client = ctx.client()
    wanted = {k: v for k, v in {"editor": editor, "kernel": kernel, "edition": edition}.items() if v}
    items = [
        r
        for r in client.runtimes.list(search_filter=wanted or None)
        if all(getattr(r, k) == v for k, v in wanted.items())
    ]
    data = {
        "ok": True,
        "runtimes": [
            r.model_dump(
                include={"image_identifier", "editor", "kernel", "edition", "full_version", "status"}
            )
            for r in items
        ],
    }

    def text() -> None:
        for r in items:
            click.echo(
                f"{r.editor:<14} {r.kernel:<12} {r.edition:<10} {r.full_version:<12} {r.image_identifier}"
            )

    ctx.emit(data, text)


@click.command()
@click.option(
    "--url", "ws_url", required=True, help="The workspace URL (https://ml-xxxx.example.cloudera.site)."
)
@click.option(
    "--api-key-stdin",
    is_flag=True,
    help="Read the API key from standard input (for scripts); otherwise it is asked for, hidden.",
)
@click.option(
    "--no-keyring", is_flag=True, help="Keep the key in the profile file (0600) even if a keyring exists."
)
@pass_ctx
def configure(ctx: CliContext, ws_url: str, api_key_stdin: bool, no_keyring: bool) -> None:
    """Save a workspace as a profile: the URL in the profile file, the API key in the OS keyring.

    Without a usable keyring (pip install "cmlops[keyring]") the key is written to the profile file
    with 0600 permissions, and cmlops says so. The key is never printed. Use the profile with
    --profile NAME (or CMLOPS_PROFILE); `default` is used when none is named.
    """
    import os
    import sys

    from automation.credentials import save_profile
    from automation.errors import InputError
    from automation.settings import default_profile_path, normalise_url

    name = ctx.profile or "default"
    url = normalise_url(ws_url, "--url")
    if api_key_stdin or not sys.stdin.isatty():
        api_key = sys.stdin.readline().strip()
    else:
        api_key = click.prompt("API key (User Settings > API Keys)", hide_input=True, err=True).strip()
    if not api_key or any(c.isspace() for c in api_key):
        raise InputError("no API key given (or it contains white space)", hint="paste the API v2 key")
    path = default_profile_path(os.environ)
    saved = save_profile(
        path, name, url=url, api_key=api_key, ca_bundle=ctx.ca_bundle, use_keyring=not no_keyring
    )
    where = "the OS keyring" if saved.key_store == "keyring" else f"{path} (plain text, mode 0600)"
    data = {
        "ok": True,
        "profile": name,
        "url": url,
        "profile_file": str(path),
        "api_key_stored_in": saved.key_store,
    }

    def text() -> None:
        click.echo(f"saved profile {name!r}: {url}; API key in {where}")
        if saved.key_store == "file" and not no_keyring:
            click.echo('  no OS keyring available: pip install "cmlops[keyring]" to keep keys out of files')
        click.echo(f"  check it: cmlops --profile {name} whoami")

    ctx.emit(data, text)


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (commands, options, file names)."""
    from click.shell_completion import get_completion_class

    from automation.cli import cli

    cls = get_completion_class(shell)
    click.echo(cls(cli, {}, "cmlops", "_CMLOPS_COMPLETE").source())


COMMANDS = [configure, whoami, runtimes, completion]
