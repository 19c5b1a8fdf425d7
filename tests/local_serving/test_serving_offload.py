"""Large calls go to the deployment's forked worker: same answers, and small calls are not stuck
behind them (checked by order of events, not by timing)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from serving_support import ACCESS_KEY, API_KEY, Server, Store

from automation.local.serving.app import ModelEndpoint
from automation.local.serving.offload import Offload

KEY = "abcdefghij0123456789abcdefghij01"


def _predict(server: Server, rows: list[list[float]]) -> list[float]:
    response = httpx.post(
        f"{server.url}/model",
        content=json.dumps({"accessKey": ACCESS_KEY, "request": {"input": rows}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:300]
    return response.json()["response"]["prediction"]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_a_large_batch_is_answered_by_the_worker_with_identical_predictions(
    auth_server: Server, store: Store, wine_model: Any
) -> None:
    pid = auth_server.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, "the model server forks exactly one large-call worker"
    worker = int(children[0])
    assert _nice(worker) > _nice(pid)  # large calls get the CPU after small ones
    rows = store.features.to_numpy().tolist()
    big = (rows * 13)[:60_000]  # about 4 MB of JSON: well over the 64 KiB threshold
    before = _cpu_ticks(worker)
    whole = _predict(auth_server, big)
    assert _cpu_ticks(worker) > before  # the worker did the work
    assert whole == wine_model.predict({"input": big})  # what the server computes in process
    assert len(whole) == 60_000


class FileGatedModel:
    """Inline (runs on the event loop when not offloaded); a call of more than 100 rows writes
    ``entered`` and waits for ``gate`` to exist (files, since it runs in the forked worker)."""

    inline = True

    def __init__(self, folder: Path) -> None:
        self.entered, self.gate = folder / "entered", folder / "gate"

    def predict(self, request: Any) -> list[int]:
        rows = request["input"]
        if len(rows) > 100:
            self.entered.touch()
            deadline = time.monotonic() + 30
            while not self.gate.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        return [len(rows)]


def test_small_calls_are_answered_while_a_large_one_runs_in_the_worker(tmp_path: Path) -> None:
    model = FileGatedModel(tmp_path)
    app = ModelEndpoint(
        model, access_key=KEY, api_key_sha256=None, max_body_bytes=1 << 20, max_concurrency=8, replica_id="r"
    )
    app.offload = Offload(app, threshold=4096)
    try:

        async def scenario() -> tuple[list[int], list[int], bool]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                large = asyncio.create_task(
                    http.post("/model", json={"accessKey": KEY, "request": {"input": [[1.0]] * 2000}})
                )
                deadline = asyncio.get_running_loop().time() + 30
                while not model.entered.exists():
                    assert asyncio.get_running_loop().time() < deadline, "the large call never started"
                    await asyncio.sleep(0.01)
                small = await http.post("/model", json={"accessKey": KEY, "request": {"input": [[1.0]]}})
                still_running = not large.done()
                model.gate.touch()
                big = await large
                return (
                    small.json()["response"]["prediction"],
                    big.json()["response"]["prediction"],
                    still_running,
                )

        small, big, still_running = asyncio.run(scenario())
        assert small == [1] and big == [2000]
        assert still_running  # the small call was answered while the large one was held in the worker
    finally:
        app.offload.close()
