"""Commands about the workspace connection itself: whoami, runtimes."""

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


COMMANDS = [whoami, runtimes]
