"""Key comparison in the local workspace: only the exact key passes.

Every near miss an attacker or a typo produces is tried: a prefix of the key, the key with a suffix,
an empty bearer value, the scheme alone, other letter case, surrounding junk. This runs in-process
(the API middleware on a tiny app, the model endpoint through httpx's ASGI transport), so it is fast
enough for the mutation run; test_local_auth.py covers the live server.
"""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from automation.local.app import BearerAuth
from automation.local.serving.app import ModelEndpoint
from automation.local.state.keys import keys_match

KEY = "Kq3-workspace-KEY_0123456789abcdefXYZ"
ACCESS = "mAccessKey0123456789abcdefghijkl"


def near_misses(key: str) -> list[str]:
    return [
        "",
        key[:1],
        key[:-1],  # every character but the last: a prefix match would pass it
        key[: len(key) // 2],
        key + "x",
        "x" + key,
        key.lower(),
        key.upper(),
        key.swapcase(),
        key[::-1],
        key[:-1] + ("a" if key[-1] != "a" else "b"),
        f"{key} {key}",
    ]


@pytest.mark.parametrize("given", near_misses(KEY))
def test_keys_match_refuses_every_near_miss(given: str) -> None:
    assert keys_match(given, KEY) is False


def test_keys_match_takes_the_exact_key_only() -> None:
    assert keys_match(KEY, KEY) is True
    assert keys_match("", "") is True  # never reached: the workspace key is never empty
    assert keys_match("", KEY) is False and keys_match(KEY, "") is False


@pytest.fixture(scope="module")
def guarded() -> TestClient:
    app = FastAPI()

    @app.get("/api/v2/projects")
    def projects() -> dict[str, list[str]]:
        return {"projects": []}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BearerAuth, key=KEY)
    return TestClient(app)


@pytest.mark.parametrize("given", near_misses(KEY))
def test_api_refuses_a_near_miss_bearer_value(guarded: TestClient, given: str) -> None:
    resp = guarded.get("/api/v2/projects", headers={"Authorization": f"Bearer {given}"})
    assert resp.status_code == 401
    assert resp.json()["code"] == 16 and resp.json()["message"] == "invalid API key"


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "bearer", KEY, f"Basic {KEY}", f"Token {KEY}", f"Bearer{KEY}", f"{KEY} Bearer"],
)
def test_api_refuses_malformed_authorization_headers(guarded: TestClient, header: str) -> None:
    resp = guarded.get("/api/v2/projects", headers={"Authorization": header})
    assert resp.status_code == 401


def test_api_without_a_header_says_how_to_send_one(guarded: TestClient) -> None:
    resp = guarded.get("/api/v2/projects")
    assert resp.status_code == 401 and "missing Authorization header" in resp.json()["message"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_api_accepts_the_exact_key_with_any_case_of_the_scheme(guarded: TestClient, scheme: str) -> None:
    resp = guarded.get("/api/v2/projects", headers={"Authorization": f"{scheme} {KEY}"})
    assert resp.status_code == 200 and resp.json() == {"projects": []}
    assert guarded.get("/api/v2/projects", headers={"Authorization": f"{scheme} {KEY}  "}).status_code == 200


def test_only_the_api_prefix_is_guarded(guarded: TestClient) -> None:
    assert guarded.get("/health").status_code == 200


# --- the model endpoint: the access key picks the model; the workspace key (by its hash) authorises ---


class Echo:
    inline = True

    def predict(self, request):
        return [1.0]


def endpoint() -> ModelEndpoint:
    return ModelEndpoint(
        Echo(),
        access_key=ACCESS,
        api_key_sha256=hashlib.sha256(KEY.encode()).hexdigest(),
        max_body_bytes=4096,
        max_concurrency=4,
        replica_id="local-1-0",
    )


def post(body: dict, headers: dict[str, str], query: str = "") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=endpoint())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.post("/model" + query, json=body, headers=headers)

    return asyncio.run(go())


AUTH = {"Authorization": f"Bearer {KEY}"}


def test_endpoint_accepts_the_exact_keys() -> None:
    resp = post({"accessKey": ACCESS, "request": {}}, AUTH)
    assert resp.status_code == 200, resp.text
    assert post({"request": {}}, AUTH, query=f"?accessKey={ACCESS}").status_code == 200


@pytest.mark.parametrize("given", near_misses(ACCESS))
def test_endpoint_refuses_a_near_miss_access_key(given: str) -> None:
    resp = post({"accessKey": given, "request": {}}, AUTH)
    assert resp.status_code == 404 and "accessKey" in resp.json()["errors"]


@pytest.mark.parametrize("given", [*near_misses(KEY), None])
def test_endpoint_refuses_a_near_miss_workspace_key(given: str | None) -> None:
    headers = {} if given is None else {"Authorization": f"Bearer {given}"}
    resp = post({"accessKey": ACCESS, "request": {}}, headers)
    assert resp.status_code == 401


@pytest.mark.parametrize("header", ["Bearer", f"Basic {KEY}", KEY])
def test_endpoint_refuses_malformed_authorization(header: str) -> None:
    assert post({"accessKey": ACCESS, "request": {}}, {"Authorization": header}).status_code == 401


def test_endpoint_access_key_must_be_text() -> None:
    assert post({"accessKey": 12345, "request": {}}, AUTH).status_code == 404
