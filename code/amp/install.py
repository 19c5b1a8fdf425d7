"""AMP step 1: install the project's Python requirements into the project (a CML job).

Runs ``pip install -r requirements.txt .[ml]`` from the project root (where CML starts jobs). It is
skipped when ``CMLOPS_AMP_SKIP_INSTALL=1`` (offline workspaces, the local workspace in tests) or when
every package the later steps import is already importable, so a re-launch costs nothing.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

NEEDED = ("mlflow", "sklearn", "pandas", "yaml", "pydantic", "click", "rich", "requests")


def main() -> int:
    if os.environ.get("CMLOPS_AMP_SKIP_INSTALL", "").strip().lower() in ("1", "true", "yes"):
        print("CMLOPS_AMP_SKIP_INSTALL is set: not installing anything")
        return 0
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not missing:
        print("every required package is importable already: nothing to install")
        return 0
    command = [sys.executable, "-m", "pip", "install", "--quiet"]
    if Path("requirements.txt").is_file():
        command += ["-r", "requirements.txt"]
    command.append(".[ml]")
    print(f"missing {', '.join(missing)}; running: {' '.join(command)}", flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
