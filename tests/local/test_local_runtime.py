"""Runtime fidelity: a job runs the way a CML ML Runtime runs it, or fails the way CML fails it.

Per-project environments (pip installs persist in the project, stay out of other projects and of
cmlops' own environment), the Jupyter kernel's semantics ('!' lines, no __file__, SystemExit fails
the run, '-f' in argv on the Jupyter editors), the Standard package set, GPU runtimes refused.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from automation.local import control

PACKAGE = "cmlops_tinypkg"


def _wheel(folder: Path) -> Path:
    """A pure-Python wheel built by hand (no network, no build backend): one module, one function."""
    path = folder / f"{PACKAGE}-1.0-py3-none-any.whl"
    dist = f"{PACKAGE}-1.0.dist-info"
    files = {
        f"{PACKAGE}/__init__.py": "def answer():\n    return 42\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr(f"{dist}/RECORD", record)
    return path


def _runtime(api, editor: str, kernel: str = "Python 3.11", edition: str = "Standard") -> str:
    found = api.ok(
        "GET",
        "/api/v2/runtimes",
        params={"search_filter": f'{{"kernel": "{kernel}", "editor": "{editor}", "edition": "{edition}"}}'},
    )["runtimes"]
    exact = [r for r in found if r["editor"] == editor and r["edition"] == edition]
    return max(exact, key=lambda r: r["full_version"])["image_identifier"]


def _run(api, local, project_id: str, script: str, runtime: str, **job_fields) -> tuple[dict, str]:
    job = api.job(project_id, script, runtime, **job_fields)
    run = api.wait_run(api.run(project_id, job["id"]))
    return run, control.read_log(local.state_dir, run["id"])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _wheel(tmp_path_factory.mktemp("wheel"))


def test_pip_install_in_a_job_lands_in_the_project_only(api, local, runtime, wheel):
    first = api.project("rt-pip-first")
    second = api.project("rt-pip-second")
    install = f"!pip3 install --no-index {wheel}\nimport {PACKAGE}\nprint('ANSWER', {PACKAGE}.answer())\n"
    api.upload(first["id"], "install.py", install)
    run, log = _run(api, local, first["id"], "install.py", runtime)
    assert run["status"] == "ENGINE_SUCCEEDED", log
    assert "ANSWER 42" in log
    site = local.state_dir / "envs" / first["id"] / "python3.11" / "lib" / "python3.11" / "site-packages"
    assert (site / PACKAGE / "__init__.py").is_file()

    # It persists for the project's later runs, as ~/.local does in CML ...
    api.upload(first["id"], "use.py", f"import {PACKAGE}\nprint('AGAIN', {PACKAGE}.answer())\n")
    run, log = _run(api, local, first["id"], "use.py", runtime)
    assert run["status"] == "ENGINE_SUCCEEDED" and "AGAIN 42" in log, log
    # ... and is invisible to another project, to cmlops' own environment and to the shared runtime.
    api.upload(second["id"], "use.py", f"import {PACKAGE}\n")
    run, log = _run(api, local, second["id"], "use.py", runtime)
    assert run["status"] == "ENGINE_FAILED" and f"No module named '{PACKAGE}'" in log
    assert importlib.util.find_spec(PACKAGE) is None
    own = subprocess.run([sys.executable, "-m", "pip", "show", PACKAGE], capture_output=True, check=False)
    assert own.returncode != 0


def test_pip_install_of_a_source_tree_builds_with_its_own_setuptools_as_in_cml(api, local, runtime):
    """pip's isolated build hides CML's runtime packages from a build backend: a project whose
    pyproject needs a newer setuptools than the runtime's (an SPDX license string: 77+) builds."""
    project = api.project("rt-pip-source")
    api.upload(
        project["id"],
        "srcpkg/pyproject.toml",
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "cmlops-srcpkg"\nversion = "1.0"\nlicense = "Apache-2.0"\n'
        "[tool.setuptools]\npy-modules = ['cmlops_srcpkg']\n",
    )
    api.upload(project["id"], "srcpkg/cmlops_srcpkg.py", "ANSWER = 7\n")
    script = (
        "!pip3 install --no-index ./srcpkg\n"
        "import cmlops_srcpkg, setuptools\n"
        "print('SRC', cmlops_srcpkg.ANSWER, 'RUNTIME_SETUPTOOLS', setuptools.__version__)\n"
    )
    api.upload(project["id"], "build.py", script)
    run, log = _run(api, local, project["id"], "build.py", runtime)
    assert run["status"] == "ENGINE_SUCCEEDED", log
    assert "SRC 7 RUNTIME_SETUPTOOLS 75.6.0" in log  # built with 77+, the runtime's own unchanged


def test_the_standard_runtime_has_mlflow_skinny_2_19_and_no_sklearn(api, local, runtime):
    project = api.project("rt-standard")
    script = (
        "import importlib.util, sys, mlflow, numpy, pandas\n"
        "print('MLFLOW', mlflow.__version__)\n"
        "print('SKLEARN', importlib.util.find_spec('sklearn') is not None)\n"
        "print('FASTAPI', importlib.util.find_spec('fastapi') is not None)\n"
        "print('AUTOMATION', importlib.util.find_spec('automation') is not None)\n"
        "print('VERSION', '%d.%d' % sys.version_info[:2])\n"
    )
    api.upload(project["id"], "probe.py", script)
    run, log = _run(api, local, project["id"], "probe.py", runtime)
    assert run["status"] == "ENGINE_SUCCEEDED", log
    assert "MLFLOW 2.19.0" in log and "SKLEARN False" in log
    assert "FASTAPI False" in log and "AUTOMATION False" in log  # nothing of cmlops' venv leaks in
    assert "VERSION 3.11" in log


def test_kernel_semantics_shell_lines_and_no_file(api, local, runtime):
    project = api.project("rt-kernel")
    script = "!echo from-the-shell $((40 + 2))\ntry:\n    __file__\nexcept NameError:\n    print('NO_FILE')\n"
    api.upload(project["id"], "kernel.py", script)
    run, log = _run(api, local, project["id"], "kernel.py", runtime)
    assert run["status"] == "ENGINE_SUCCEEDED", log
    assert "from-the-shell 42" in log and "NO_FILE" in log


def test_sys_exit_0_fails_the_run_as_cmls_kernel_does(api, local, runtime):
    project = api.project("rt-exit")
    api.upload(project["id"], "exits.py", "import sys\nprint('done')\nsys.exit(0)\n")
    run, log = _run(api, local, project["id"], "exits.py", runtime)
    assert run["status"] == "ENGINE_FAILED"
    assert "SystemExit(0)" in log and "even sys.exit(0)" in log


def test_jupyter_editors_pass_dash_f_so_strict_argparse_exits_2(api, local):
    project = api.project("rt-argv")
    strict = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--n')\nprint(p.parse_args())\n"
    tolerant = strict.replace("p.parse_args()", "p.parse_known_args()")
    api.upload(project["id"], "strict.py", strict)
    api.upload(project["id"], "tolerant.py", tolerant)
    pbj = _runtime(api, "PBJ Workbench")
    run, log = _run(api, local, project["id"], "strict.py", pbj, arguments="--n 1")
    assert run["status"] == "ENGINE_FAILED"
    assert "unrecognized arguments: -f" in log and "SystemExit(2)" in log
    assert api.ok("GET", f"/api/v2/projects/{project['id']}/jobs/{run['job_id']}/runs/{run['id']}")
    run, log = _run(api, local, project["id"], "tolerant.py", pbj, arguments="--n 1")
    assert run["status"] == "ENGINE_SUCCEEDED" and "n='1'" in log, log
    # The Workbench editor passes the arguments alone.
    run, log = _run(api, local, project["id"], "strict.py", _runtime(api, "Workbench"), arguments="--n 2")
    assert run["status"] == "ENGINE_SUCCEEDED" and "n='2'" in log, log


def test_a_gpu_runtime_is_listed_but_a_run_on_it_is_refused(api, local):
    project = api.project("rt-gpu")
    api.upload(project["id"], "ok.py", "print('ok')\n")
    gpu = _runtime(api, "Workbench", edition="Nvidia GPU")
    job = api.job(project["id"], "ok.py", gpu)
    refused = api.post(f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs", json={})
    assert refused.status_code == 400
    assert "no GPU on the local workspace" in refused.json()["message"]
    runs = api.ok("GET", f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs")
    assert runs["job_runs"] == []  # refused before any run


def test_a_python_the_machine_lacks_is_not_offered(api, runtime):
    project = api.project("rt-old-python")
    old = runtime.replace("python3.11", "python3.9")
    resp = api.post(
        f"/api/v2/projects/{project['id']}/jobs",
        json={"name": "old", "script": "x.py", "runtime_identifier": old},
    )
    assert resp.status_code == 400 and "Python 3.9" in resp.json()["message"]
