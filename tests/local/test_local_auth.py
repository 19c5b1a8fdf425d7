"""Bearer auth, validate_key, the key file, server.json and the control functions."""

from __future__ import annotations

import json
import stat

from automation.local import control


def _assert_runtime_error(body: dict, code: int) -> None:
    assert set(body) == {"error", "code", "message", "details"}
    assert body["code"] == code
    assert body["details"] == []
    assert body["message"] and body["error"] == body["message"]
    assert "Traceback" not in body["message"]


def test_health_needs_no_key(api):
    resp = api.get("/health", auth=False)
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_missing_key_is_401_code_16(api):
    resp = api.get("/api/v2/projects", auth=False)
    assert resp.status_code == 401
    _assert_runtime_error(resp.json(), 16)


def test_wrong_key_is_401_code_16(api):
    resp = api.get("/api/v2/projects", auth=False, headers={"Authorization": "Bearer not-the-key"})
    assert resp.status_code == 401
    _assert_runtime_error(resp.json(), 16)


def test_basic_scheme_is_refused(api):
    resp = api.get("/api/v2/projects", auth=False, headers={"Authorization": f"Basic {api.key}"})
    assert resp.status_code == 401


def test_unknown_route_needs_key_first_then_404(api):
    assert api.get("/api/v2/no-such-thing", auth=False).status_code == 401
    resp = api.get("/api/v2/no-such-thing")
    assert resp.status_code == 404
    _assert_runtime_error(resp.json(), 5)


def test_validate_key_api_audience(api):
    body = api.ok("POST", "/api/v2/auth/validate_key", json={"audience": "API"})
    assert body["valid"] is True
    assert body["username"] == "local-user"
    assert body["message"]


def test_validate_key_application_audience_is_403(api):
    resp = api.post("/api/v2/auth/validate_key", json={"audience": "Application"})
    assert resp.status_code == 403
    _assert_runtime_error(resp.json(), 7)
    assert "audience mismatch" in resp.json()["message"]


def test_validate_key_other_audience_is_400(api):
    resp = api.post("/api/v2/auth/validate_key", json={"audience": "Spark"})
    assert resp.status_code == 400
    _assert_runtime_error(resp.json(), 3)
    assert "audience" in resp.json()["message"]


def test_key_file_is_private_and_matches(local):
    key_file = local.state_dir / "api_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == local.workspace.api_key


def test_server_json_describes_the_server(local):
    info = json.loads((local.state_dir / "server.json").read_text())
    assert info["url"] == f"http://127.0.0.1:{local.port}"
    assert info["port"] == local.port
    assert info["pid"] == local.workspace.pid
    assert info["model_service_url"] == f"http://127.0.0.1:{local.port}/model"
    assert info["started_at"].endswith("Z")
    assert local.workspace.api_key not in json.dumps(info)


def test_repr_and_status_never_show_the_key(local):
    assert local.workspace.api_key not in repr(local.workspace)
    assert "api_key='***'" in repr(local.workspace)
    status = control.status(local.state_dir)
    assert status["running"] is True
    assert status["url"] == local.workspace.url
    assert local.workspace.api_key not in json.dumps(status)


def test_ensure_running_reuses_the_live_server(local):
    again = control.ensure_running(local.state_dir)
    assert again.pid == local.workspace.pid
    assert again.url == local.workspace.url
    assert control.start(local.state_dir).pid == local.workspace.pid


def test_status_of_an_empty_folder(tmp_path):
    status = control.status(tmp_path / "nothing-here")
    assert status["running"] is False
    assert status["projects"] == 0


def test_read_log_refuses_unknown_and_path_like_names(local):
    import pytest

    from automation.errors import InputError

    with pytest.raises(InputError):
        control.read_log(local.state_dir, "../api_key")
    with pytest.raises(InputError):
        control.read_log(local.state_dir, "nosuchrun")
    assert "local workspace serving at" in control.read_log(local.state_dir, "server")
