"""The dependency step: install the project's packages into this project, as CML users do.

CML's Standard runtime ships numpy and pandas but no scikit-learn, and its MLflow is the runtime's
``mlflow-skinny`` add-on. A project installs what it imports with pip; in CML the packages land in
the project (``~/.local``) and stay there for every later job, session and application of it. The
flagship spec runs this script as the "install dependencies" job before each training run; a
re-run finds everything installed and takes a second or two.

    python code/install_dependencies.py            # installs requirements.txt (or $REQUIREMENTS)

It never upgrades MLflow: requirements.txt leaves mlflow to the runtime (a newer mlflow in a CML
project breaks Cloudera's tracking plugin).
"""

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path


def installed(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main() -> None:
    requirements = Path(os.environ.get("REQUIREMENTS") or "requirements.txt")
    if not requirements.is_file():
        raise SystemExit(f"error: {requirements} not found in {Path.cwd()} (set REQUIREMENTS to its path)")
    mlflow_before = installed("mlflow-skinny"), installed("mlflow")
    command = [sys.executable, "-m", "pip", "install", "--progress-bar", "off", "-r", str(requirements)]
    print("running:", " ".join(command), flush=True)
    code = subprocess.call(command)
    if code != 0:
        raise SystemExit(f"error: pip exited with code {code}; see its output above")
    if (installed("mlflow-skinny"), installed("mlflow")) != mlflow_before:
        print(f"warning: installing {requirements} changed MLflow; CML's tracking plugin needs the runtime's")
    for name in ("scikit-learn", "pandas", "numpy", "mlflow-skinny", "mlflow"):
        print(f"  {name}: {installed(name)}")


if __name__ == "__main__":
    main()
