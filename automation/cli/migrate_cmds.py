"""`cmlops migrate`: rewrite a version 1 spec as version 2, comments kept where possible."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from automation.cli.context import CliContext, pass_ctx
from automation.cli.spec_cmds import SPEC_ARG
from automation.errors import InputError


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically (a reader never sees half a spec)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command()
@SPEC_ARG
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None, help="Write the v2 spec here.")
@click.option("--in-place", is_flag=True, help="Rewrite SPEC itself.")
@pass_ctx
def migrate(ctx: CliContext, spec_path: str, out: str | None, in_place: bool) -> None:
    """Rewrite a version 1 spec as version 2 (printed, or written with --out or --in-place).

    The v2 text is checked to load to exactly the spec the v1 file describes before anything is
    written, so it plans identically.
    """
    from automation.spec import load_spec, parse_spec
    from automation.spec.loader import decode
    from automation.spec.migrate import migrate_text

    if out and in_place:
        raise InputError("--out and --in-place both say where to write; give one of them")
    spec = load_spec(spec_path)
    if spec.source_version != 1:
        raise InputError(f"{spec_path} is already a version 2 spec; nothing to migrate")
    source = Path(spec_path)
    text = migrate_text(decode(source.read_bytes(), spec_path), spec_path)
    migrated = parse_spec(
        text, file=f"{spec_path} (migrated)", source_path=spec.source_path, repo_root=spec.repo_root
    )
    if migrated != spec:  # pragma: no cover - the conversion is tested to preserve every field
        raise InputError(
            "the migrated spec differs from the original; nothing was written", hint="report this bug"
        )
    target = source if in_place else Path(out) if out else None
    if target is None:
        click.echo(text, nl=False)
        return
    if not target.parent.is_dir():
        raise InputError(f"--out: folder {target.parent} does not exist")
    _write(target, text)
    ctx.emit(
        {"ok": True, "spec": str(source), "written": str(target), "version": 2},
        f"{target}: written as spec version 2 (cmlops validate {target} checks it)",
    )


COMMANDS = [migrate]
