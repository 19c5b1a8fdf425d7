"""AMP step 1: install the project's Python requirements into the project (a CML job).

Runs ``pip install -r requirements.txt .`` from the project root (where CML starts jobs): the
training code's packages and cmlops itself, without upgrading the runtime's MLflow (cmlops needs no
MLflow to drive the API; a newer mlflow would break CML's tracking plugin). It is skipped when
``CMLOPS_AMP_SKIP_INSTALL=1`` or when every package the later steps import is already importable,
so a re-launch costs nothing.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

NEEDED = ("mlflow", "sklearn", "pandas", "yaml", "pydantic", "click", "rich", "requests", "automation")


def main() -> int:
    if os.environ.get("CMLOPS_AMP_SKIP_INSTALL", "").strip().lower() in ("1", "true", "yes"):
        print("CMLOPS_AMP_SKIP_INSTALL is set: not installing anything")
        return 0
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not missing:
        print("every required package is importable already: nothing to install")
        return 0
    command = [sys.executable, "-m", "pip", "install", "--progress-bar", "off"]
    if Path("requirements.txt").is_file():
        command += ["-r", "requirements.txt"]
    command.append(".")
    print(f"missing {', '.join(missing)}; running: {' '.join(command)}", flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    # CML's job kernel fails a run on any SystemExit, even sys.exit(0): exit only on failure.
    code = main()
    if code:
        raise SystemExit(code)
