"""Running ``cmlops ARGS`` in-process for a test: one helper, so every CLI test reads the exit code
the same way (``main`` always ends in ``SystemExit``, success included)."""

from __future__ import annotations

import io
import sys

import pytest


def run_cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``cmlops ARGS``; ``stdin`` is what a prompt would read."""
    from automation.cli import main  # imported late: callers set the environment first

    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
    finally:
        sys.stdin = saved
    code = exited.value.code
    assert isinstance(code, int), f"cmlops exited with {code!r}, not an exit code"
    out, err = capsys.readouterr()
    return code, out, err
