"""What every kind of child process of the local workspace sees in its environment.

The shared server (tests/local/conftest.py) was started with ``CML_API_KEY`` set to a canary. Job
runs and applications get CML's own variables (``CDSW_APIV2_KEY`` is the workspace key, as in CML)
but never the server's ``CML_*``/``CDSW_*``; model servers (deployments) and the build check that
imports a file-based model get none of them, and never the workspace key in any variable.

The probe records its environment when it is imported, so the build check (which imports the
model file in a subprocess) and the model server each leave a file behind.
"""

from __future__ import annotations

import json
from typing import Any

from local_support import LEAK_CANARY, wait_for

from automation.local import control

PROBE = """\
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
(HERE / f"env-{os.getpid()}.json").write_text(json.dumps(dict(os.environ)))


def predict(args):
    return {"pid": os.getpid()}
"""
PREFIXES = ("CML_", "CDSW_")


def _leaks(env: dict[str, str], key: str) -> list[str]:
    found = [k for k in env if k.startswith(PREFIXES)]
    found += [f"{k} holds the canary" for k, v in env.items() if LEAK_CANARY in v]
    found += [f"{k} holds the workspace key" for k, v in env.items() if key in v]
    return found


def test_model_servers_and_build_checks_inherit_no_workspace_variables(api, local, runtime) -> None:
    project = api.project("env-probe-model")
    api.upload(project["id"], "probe.py", PROBE)
    folder = local.state_dir / "projects" / project["id"]
    model = api.ok("POST", f"/api/v2/projects/{project['id']}/models", json={"name": "env-probe"})
    base = f"/api/v2/projects/{project['id']}/models/{model['id']}/builds"
    build = api.ok(
        "POST",
        base,
        json={"file_path": "probe.py", "function_name": "predict", "runtime_identifier": runtime},
    )
    build = wait_for(
        lambda: api.ok("GET", f"{base}/{build['id']}"), lambda b: b["status"] in ("built", "build failed")
    )
    assert build["status"] == "built", control.read_log(local.state_dir, build["id"])
    dep_base = f"{base}/{build['id']}/deployments"
    dep = api.ok("POST", dep_base, json={"environment": {"MODEL_ONLY": "m"}})
    dep = wait_for(
        lambda: api.ok("GET", f"{dep_base}/{dep['id']}"), lambda d: d["status"] in ("deployed", "failed")
    )
    assert dep["status"] == "deployed", control.read_log(local.state_dir, dep["id"])
    body = {"accessKey": model["access_key"], "request": {}}
    auth = {"Authorization": f"Bearer {local.workspace.api_key}"}
    answer = api.session.post(local.workspace.model_service_url, json=body, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    server_pid = answer.json()["response"]["pid"]
    api.ok("POST", f"{dep_base}/{dep['id']}:stop")

    envs: dict[int, dict[str, Any]] = {
        int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in folder.glob("env-*.json")
    }
    assert server_pid in envs and len(envs) >= 2, sorted(envs)  # the build check and the model server
    for pid, env in envs.items():
        assert _leaks(env, local.workspace.api_key) == [], f"process {pid}"
    assert envs[server_pid]["MODEL_ONLY"] == "m"  # the deployment's own environment is there
    assert envs[server_pid]["MLFLOW_TRACKING_URI"]


APP = """\
import json
import os
import time
from pathlib import Path

Path("app-env.json").write_text(json.dumps(dict(os.environ)))
time.sleep(60)
"""


def test_applications_get_cml_variables_but_not_the_servers(api, local, runtime) -> None:
    project = api.project("env-probe-app", environment={"FROM_PROJECT": "p"})
    api.upload(project["id"], "probe_app.py", APP)
    base = f"/api/v2/projects/{project['id']}/applications"
    app = api.ok(
        "POST",
        base,
        json={
            "project_id": project["id"],
            "name": "env probe",
            "subdomain": "env-probe",
            "script": "probe_app.py",
            "runtime_identifier": runtime,
            "environment": {"FROM_APP": "a"},
        },
    )
    written = local.state_dir / "projects" / project["id"] / "app-env.json"
    try:
        wait_for(lambda: written.is_file() and written.stat().st_size > 0, bool)
        env = json.loads(written.read_text())
    finally:
        api.ok("POST", f"{base}/{app['id']}:stop")
    assert "CML_API_KEY" not in env and not any(LEAK_CANARY in v for v in env.values())
    assert env["CDSW_APIV2_KEY"] == local.workspace.api_key  # CML gives workloads the user's key
    assert env["CDSW_PROJECT_ID"] == project["id"]
    assert (env["FROM_PROJECT"], env["FROM_APP"]) == ("p", "a")
    server_only = sorted(k for k in env if k.startswith(PREFIXES) and k not in _CML_SET)
    assert server_only == [], server_only


# What CML sets in a workload's environment (reference: cml-runtime.md); anything else under these
# prefixes would have come from the server's own environment.
_CML_SET = {
    "CDSW_PROJECT_ID",
    "CDSW_PROJECT",
    "CDSW_PROJECT_URL",
    "CDSW_ENGINE_ID",
    "CDSW_API_URL",
    "CDSW_DOMAIN",
    "CDSW_APIV2_KEY",
    "CDSW_APP_PORT",
    "CDSW_READONLY_PORT",
    "CDSW_PUBLIC_PORT",
    "CDSW_CPU_MILLICORES",
    "CDSW_MEMORY_MB",
    "CDSW_NVIDIA_GPUS",
    "CDSW_IP_ADDRESS",
    "CDSW_HOME",
    "CDSW_APP_ID",
    "CDSW_ENGINE_IMAGE",
    "CDSW_RUNTIME_IMAGE",
    "CDSW_USERNAME",
}
