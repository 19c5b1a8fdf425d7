"""CMLClient itself: whoami (validate_key) and construction from settings."""

from __future__ import annotations

import pytest

from automation.api import CMLClient
from automation.clock import FakeClock
from automation.errors import EXIT_AUTH, PermissionDenied, Unauthenticated
from automation.settings import Settings

from .wire import API_KEY, BASE, Wire


def test_validate_key_returns_the_user(client: CMLClient, wire: Wire) -> None:
    reply = {"valid": True, "username": "alice", "message": "API key is valid for the given audience"}
    wire.expect("POST", "/api/v2/auth/validate_key", body={"audience": "API"}, reply=reply)

    info = client.validate_key()

    assert (info.valid, info.username) == (True, "alice")


@pytest.mark.parametrize(("status", "code", "cls"), [(401, 16, Unauthenticated), (403, 7, PermissionDenied)])
def test_validate_key_refused_names_the_variable(
    client: CMLClient, wire: Wire, status: int, code: int, cls: type
) -> None:
    reply = {
        "error": "refused",
        "code": code,
        "message": "audience mismatch" if status == 403 else "invalid key",
    }
    wire.expect("POST", "/api/v2/auth/validate_key", body={"audience": "API"}, status=status, reply=reply)

    with pytest.raises(cls) as info:
        client.validate_key()

    assert info.value.exit_code == EXIT_AUTH
    assert "CML_API_KEY" in str(info.value)
    assert API_KEY not in str(info.value)
    assert len(wire.mock.calls) == 1  # a refused key is not retried


def test_from_settings_wires_url_key_and_model_service(wire: Wire) -> None:
    settings = Settings(
        url=BASE, api_key=API_KEY, model_service_url="https://modelservice.cml.example.test/model"
    )
    lines: list[str] = []
    client = CMLClient.from_settings(settings, trace=lines.append, clock=FakeClock())
    wire.expect(
        "POST",
        "/api/v2/auth/validate_key",
        body={"audience": "API"},
        reply={"valid": True, "username": "bob"},
    )

    assert client.validate_key().username == "bob"
    assert client.model_service_url == "https://modelservice.cml.example.test/model"
    assert client.http.base_url == BASE
    assert lines and all(API_KEY not in line for line in lines)
    assert API_KEY not in repr(client.http)


def test_model_service_client_shares_key_clock_and_known_secrets(client: CMLClient) -> None:
    client.model_service_url = "https://modelservice.example.com/model"
    client.http.add_secret("an-access-key-0123456789")
    service = client.model_service()
    assert service.base_url == "https://modelservice.example.com/model"
    assert service.clock is client.clock
    assert service._redact("key an-access-key-0123456789") == "key ***"  # traces stay redacted


def test_model_service_without_a_url_is_a_settings_error(client: CMLClient) -> None:
    from automation.errors import SettingsError

    client.model_service_url = None
    with pytest.raises(SettingsError, match="CML_MODEL_SERVICE_URL"):
        client.model_service()
