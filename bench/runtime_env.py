"""How long the local workspace takes to give a project its Python environment.

    python bench/runtime_env.py [--python 3.10] [--cold]

Measures, in a scratch cache folder: building the Standard runtime environment (warm: from uv's
shared cache, as every build after the first on a machine; ``--cold`` also empties a scratch uv
cache so every package comes from the package index), creating a project environment on top of it,
and starting the kernel runner for a one-line script in it. The reference is
``python -m venv`` + ``pip install`` of the same package set, measured in the same run (warm pip cache).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automation.local.workloads.runtime.environments import (
    PACKAGE_SET,
    RuntimeEnvironments,
    kernel_runner_path,
)
from automation.local.workloads.runtime.interpreters import find_python


def timed(label: str, fn) -> float:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"{label:<48} {seconds:7.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.10")
    parser.add_argument("--cold", action="store_true", help="empty uv cache (downloads everything)")
    args = parser.parse_args()
    interpreter = find_python(args.python)
    if interpreter is None:
        raise SystemExit(f"no Python {args.python} here")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if args.cold:
            os.environ["UV_CACHE_DIR"] = str(scratch / "uv-cache")
        envs = RuntimeEnvironments(logging.getLogger("bench"), cache=scratch / "cache")
        build = timed(
            f"runtime environment ({'cold' if args.cold else 'warm uv cache'})",
            lambda: envs.ensure_runtime(args.python),
        )
        holder: dict[str, object] = {}
        timed(
            "project environment",
            lambda: holder.setdefault("env", envs.project_env(scratch / "envs", args.python)),
        )
        env = holder["env"]
        script = scratch / "hello.py"
        script.write_text("!true\nprint('hello')\n")
        for label in ("kernel runner, one-line script (first)", "kernel runner, one-line script (again)"):
            timed(
                label,
                lambda: subprocess.run(
                    [str(env.python), str(kernel_runner_path()), "Workbench", str(script), "k.json"],  # type: ignore[attr-defined]
                    check=True,
                    capture_output=True,
                    cwd=scratch,
                ),
            )
        ref = scratch / "ref-venv"
        reference = timed(
            "reference: python -m venv + pip install (warm pip cache)",
            lambda: (
                subprocess.run([interpreter, "-m", "venv", str(ref)], check=True),
                subprocess.run(
                    [str(ref / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(PACKAGE_SET)],
                    check=True,
                ),
            ),
        )
        print(f"runtime build vs venv+pip: {reference / build:.1f}x faster")


if __name__ == "__main__":
    main()
