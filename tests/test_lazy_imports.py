"""Start-up stays light: `cmlops --help`/`--version` must not import the heavy ML or server stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("mlflow", "sklearn", "pandas", "fastapi", "uvicorn")

PROBE = """
import json, sys
import automation.cli
try:
    automation.cli.main({argv!r})
except SystemExit:
    pass
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))
print("HEAVY=" + json.dumps(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["whoami", "--help"]])
def test_cli_start_up_imports_no_heavy_module(argv: list[str]) -> None:
    code = PROBE.format(argv=argv, heavy=HEAVY)

    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), "the command printed nothing"
    marker = [line for line in proc.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker, proc.stderr
    assert json.loads(marker[-1][len("HEAVY=") :]) == []
