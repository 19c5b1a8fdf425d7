"""`cmlops init`: a ready project (spec, code, requirements, .gitignore, CI workflow) in a new folder."""

from __future__ import annotations

from pathlib import Path

import click

from automation.cli.context import CliContext, pass_ctx


@click.command()
@click.argument("folder", default=".", metavar="[DIR]", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--example",
    default="wine-quality",
    show_default=True,
    metavar="NAME",
    help="The example project to start from.",
)
@pass_ctx
def init(ctx: CliContext, folder: Path, example: str) -> None:
    """Write a ready project into DIR (new or empty; default: here). Never overwrites a file.

    \b
    Example:
      cmlops init wine && cd wine && cmlops bootstrap specs/wine-quality.yaml
    """
    from automation.examples import write_project

    written = write_project(folder, example)
    spec = f"specs/{example}.yaml"
    rels = [p.relative_to(folder).as_posix() for p in written]

    def text() -> None:
        click.echo(f"wrote {len(rels)} files into {folder}:")
        for rel in rels:
            if rel.count("/") <= 1 or rel.startswith(".github"):
                click.echo(f"  {rel}")
        where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && "
        click.echo(f"next: {where}cmlops bootstrap {spec}")

    ctx.emit({"ok": True, "folder": str(folder.resolve()), "files": rels, "spec": spec}, text)


COMMANDS = [init]
