"""What preinstalling the local workspace's ``cmlapi`` costs a project environment (a benchmark, not a test).

    python bench/cmlapi_install.py [--python 3.11] [--runs 5]

Uses the prepared runtime environment (``cmlops local prepare``) and scratch project environments:
the source archive's build, writing the package into a new project environment (what the first
engine of a project pays), the check every later engine start pays, ``import cmlapi`` in the
project's interpreter (first import, which compiles, then warm, against ``python -c pass``, the
standard-library modules it needs, and ``import requests``), and
the reference: ``uv pip install --no-index --no-deps`` of the served archive into a project
environment, measured in the same run.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automation.local.workloads.runtime import cmlapi_package
from automation.local.workloads.runtime.environments import ProjectEnv, RuntimeEnvironments, uv_binary


def seconds(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def python_time(python: Path, code: str, runs: int) -> float:
    return statistics.median(
        seconds(lambda: subprocess.run([str(python), "-c", code], check=True)) for _ in range(runs)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=f"{sys.version_info[0]}.{sys.version_info[1]}")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    envs = RuntimeEnvironments(logging.getLogger("bench"))
    if not envs.runtime_ready(args.python):
        raise SystemExit(f"no prepared runtime for Python {args.python}: run `cmlops local prepare` first")
    runtime = envs.runtime_root(args.python)
    rows: list[tuple[str, float]] = []
    cmlapi_package.source_archive.cache_clear()
    rows.append(("source archive build (in memory)", seconds(cmlapi_package.source_archive)))
    data, name = cmlapi_package.source_archive()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        ours = ProjectEnv(scratch / "ours", args.python, runtime)
        install = lambda: cmlapi_package.ensure_installed(ours.site_packages)  # noqa: E731
        first_import = lambda: subprocess.run([str(ours.python), "-c", "import cmlapi"], check=True)  # noqa: E731
        rows.append(("project environment, without cmlapi", seconds(lambda: envs._create_project_env(ours))))
        rows.append(("  + cmlapi written in (first engine)", seconds(install)))
        rows.append(("  + check at each later engine start", seconds(install)))
        rows.append(("import cmlapi, first (compiles)", seconds(first_import)))
        for label, code in (
            ("python -c pass", "pass"),
            ("its standard-library imports alone", "import urllib.request, json, inspect"),
            ("import requests (for comparison)", "import requests"),
            ("import cmlapi, warm", "import cmlapi"),
        ):
            rows.append((f"{label} (median)", python_time(ours.python, code, args.runs)))
        reference = ProjectEnv(scratch / "reference", args.python, runtime)
        envs._create_project_env(reference)
        archive = scratch / name
        archive.write_bytes(data)
        uv = uv_binary()
        if uv:
            install = [
                uv,
                "pip",
                "install",
                "--quiet",
                "--no-index",
                "--no-deps",
                "--python",
                str(reference.python),
                str(archive),
            ]
            rows.append(
                (
                    "reference: uv pip install of the archive",
                    seconds(lambda: subprocess.run(install, check=True)),
                )
            )
    print(f"cmlapi {cmlapi_package.version()}, archive {len(data):,} bytes, Python {args.python}")
    for label, value in rows:
        print(f"{label:<44} {value * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
