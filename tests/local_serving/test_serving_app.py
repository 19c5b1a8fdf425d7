"""The ASGI app in-process with fake models: the in-flight limit (429 model.busy) deterministically,
and how the app treats model failures."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from automation.local.serving.app import ModelEndpoint
from automation.local.serving.errors import RequestError
from automation.local.serving.limiter import InFlightLimiter

KEY = "abcdefghij0123456789abcdefghij01"


def test_the_limiter_refuses_beyond_its_limit_and_frees_on_release() -> None:
    limiter = InFlightLimiter(2)
    assert limiter.try_acquire() and limiter.try_acquire()
    assert limiter.try_acquire() is False
    assert (limiter.in_flight, limiter.rejected) == (2, 1)
    limiter.release()
    assert limiter.try_acquire() is True
    with pytest.raises(ValueError):
        InFlightLimiter(0)


def test_release_without_acquire_is_a_bug_not_a_negative_count() -> None:
    with pytest.raises(RuntimeError):
        InFlightLimiter(1).release()


class GatedModel:
    """A slow model: each predict waits until the test opens the gate (runs on the worker thread)."""

    inline = False

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def predict(self, request: Any) -> list[Any]:
        self.entered.release()
        self.gate.wait(timeout=30)
        return [1.0]


class FixedModel:
    """A model that answers instantly, or fails as told."""

    inline = True

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    def predict(self, request: Any) -> list[Any]:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def endpoint(model: Any, *, max_concurrency: int = 64, api_key: str | None = None) -> ModelEndpoint:
    return ModelEndpoint(
        model,
        access_key=KEY,
        api_key_sha256=hashlib.sha256(api_key.encode()).hexdigest() if api_key else None,
        max_body_bytes=4096,
        max_concurrency=max_concurrency,
        replica_id="local-1-0",
    )


def client(app: ModelEndpoint) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


BODY = {"accessKey": KEY, "request": {"input": [[1.0]]}}


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the event loop run until ``condition`` holds (bounded; fails the test otherwise)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def test_calls_beyond_max_concurrency_get_429_model_busy_at_once() -> None:
    model = GatedModel()
    app = endpoint(model, max_concurrency=2)

    async def scenario() -> tuple[list[int], dict[str, Any], int]:
        async with client(app) as http:
            slow = [asyncio.create_task(http.post("/model", json=BODY)) for _ in range(2)]
            # One call is inside predict, the other queued for the single predict worker: both in flight.
            assert await asyncio.to_thread(model.entered.acquire, True, 30)
            await until(lambda: app.limiter.in_flight == 2)
            busy = await http.post("/model", json=BODY)
            health = (await http.get("/health")).status_code  # the loop still answers
            model.gate.set()
            done = await asyncio.gather(*slow)
            after = await http.post("/model", json=BODY)
            return [busy.status_code, *(r.status_code for r in done), after.status_code], busy.json(), health

    statuses, busy_body, health = asyncio.run(scenario())
    assert statuses == [429, 200, 200, 200]
    assert busy_body["success"] is False
    assert "busy" in busy_body["errors"]["model.busy"]
    assert health == 200
    assert app.limiter.in_flight == 0
    assert app.limiter.rejected == 1


@pytest.mark.parametrize(
    ("outcome", "status", "field", "text"),
    [
        (RequestError("wrong row length in row 0"), 400, "request", "wrong row length in row 0"),
        (
            ZeroDivisionError("division by zero\nsecond line"),
            500,
            "model",
            "ZeroDivisionError: division by zero",
        ),
        ([float("nan"), 1.0], 500, "model", "not JSON"),
        ([{"label": "a", "score": 0.5}], 200, None, None),
    ],
    ids=["request-error", "model-crash", "nan-output", "records-output"],
)
def test_model_outcomes_map_to_statuses(
    outcome: Any, status: int, field: str | None, text: str | None
) -> None:
    async def call() -> httpx.Response:
        async with client(endpoint(FixedModel(outcome))) as http:
            return await http.post("/model", json=BODY)

    response = asyncio.run(call())
    assert response.status_code == status
    body = response.json()
    if field is None:
        assert body == {"success": True, "response": {"prediction": outcome}, "ReplicaID": "local-1-0"}
    else:
        assert text in body["errors"][field]
        assert "second line" not in response.text and "Traceback" not in response.text


def test_a_streamed_body_over_the_limit_is_a_413_without_content_length() -> None:
    async def chunks():
        yield b'{"accessKey": "' + KEY.encode() + b'", "request": {"input": ['
        for _ in range(100):
            yield b"[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],"
        yield b"[1.0]]}}"

    async def call() -> httpx.Response:
        async with client(endpoint(FixedModel([1.0]))) as http:
            return await http.post("/model", content=chunks())

    response = asyncio.run(call())
    assert response.status_code == 413
    assert "limit is 4096 bytes" in response.json()["errors"]["request"]


def test_the_bearer_check_happens_before_the_body_is_read() -> None:
    async def call() -> httpx.Response:
        async with client(endpoint(FixedModel([1.0]), api_key="s3cret")) as http:
            return await http.post("/model", content=b"{not json", headers={"Authorization": "Bearer nope"})

    response = asyncio.run(call())
    assert response.status_code == 401
    assert json.loads(response.text)["errors"]["auth"].startswith("missing or wrong API key")
