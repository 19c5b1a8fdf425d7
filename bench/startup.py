"""Start-up time of cmlops against `mlflow --help`, measured in the same run (a benchmark, not a test).

    python bench/startup.py [--runs 7]

Runs each command N times (interleaved, so machine noise hits all alike), prints the median wall
time of each and the ratio mlflow/cmlops, then checks that importing the CLI pulls in none of the
heavy libraries (mlflow, sklearn, pandas, fastapi, uvicorn). Console scripts are taken from the
interpreter's own bin folder (not a pyenv shim); when `cmlops` is not installed there, both tools
run as `python -m ...` so the comparison stays like for like.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "specs" / "wine-quality.yaml"
HEAVY = ("mlflow", "sklearn", "pandas", "fastapi", "uvicorn")
IMPORT_PROBE = (
    "import automation.cli, sys; "
    "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow','sklearn','pandas','fastapi','uvicorn')))"
)


def launchers() -> tuple[list[str], list[str], str]:
    """(cmlops argv prefix, mlflow argv prefix, note on how they are launched)."""
    bindir = Path(sys.executable).parent
    cmlops, mlflow = bindir / "cmlops", bindir / "mlflow"
    if cmlops.is_file() and mlflow.is_file():
        return [str(cmlops)], [str(mlflow)], f"console scripts in {bindir}"
    return (
        [sys.executable, "-m", "automation"],
        [sys.executable, "-m", "mlflow"],
        "cmlops is not installed as a console script here: both run as `python -m ...`",
    )


def spec_ready() -> str | None:
    """None when `cmlops validate` can run; otherwise why not."""
    if not SPEC.is_file():
        return f"{SPEC.relative_to(REPO)} not found"
    if not (REPO / "automation" / "spec" / "__init__.py").is_file():
        return "the spec module (automation/spec) is not there yet"
    return None


def time_once(argv: list[str], problems: dict[str, str], name: str) -> float:
    """Wall time of one run. `validate` may reject the spec (exit 2) and still count as a start-up."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
        if not name.startswith("cmlops validate") or proc.returncode != 2:
            raise SystemExit(f"`{' '.join(argv)}` failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        problems[name] = f"exit {proc.returncode}: {first}"
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median reported); default 7")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    cml, mlf, note = launchers()
    commands: dict[str, list[str]] = {
        "cmlops --help": [*cml, "--help"],
        "cmlops --version": [*cml, "--version"],
    }
    why_not = spec_ready()
    if why_not is None:
        commands["cmlops validate specs/wine-quality.yaml"] = [*cml, "validate", "specs/wine-quality.yaml"]
    commands["mlflow --help"] = [*mlf, "--help"]

    problems: dict[str, str] = {}
    for name, cmd in commands.items():  # warm the file cache once; not counted
        time_once(cmd, problems, name)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(time_once(cmd, problems, name))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    reference = medians["mlflow --help"]

    print(f"start-up, median of {args.runs} runs ({note}; python {sys.version.split()[0]})")
    print(f"{'command':<44} {'median ms':>10} {'min ms':>8} {'mlflow/this':>12}")
    for name in commands:
        ratio = "" if name.startswith("mlflow") else f"{reference / medians[name]:.1f}x"
        print(f"{name:<44} {medians[name] * 1000:>10.0f} {min(samples[name]) * 1000:>8.0f} {ratio:>12}")
    if why_not is not None:
        print(f"(skipped `cmlops validate specs/wine-quality.yaml`: {why_not})")
    for name, problem in problems.items():
        print(f"(note: `{name}` rejected the spec, timed anyway: {problem})")

    probe = subprocess.run([sys.executable, "-c", IMPORT_PROBE], cwd=REPO, capture_output=True, text=True)
    loaded = probe.stdout.strip()
    print(f"heavy modules loaded by `import automation.cli`: {loaded}")
    if probe.returncode != 0 or loaded != "[]":
        print(f"FAIL: importing the CLI must not load any of {json.dumps(HEAVY)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
