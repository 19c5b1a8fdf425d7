"""A bounded load on a live server: no errors, and memory that does not grow with the request count."""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time

from serving_support import ACCESS_KEY, API_KEY, Server, Store

REQUESTS = 2000
CONCURRENCY = 8
RSS_BOUND_MB = 50


def send_load(
    server: Server, bodies: list[bytes], total: int, concurrency: int
) -> tuple[list[int], list[str]]:
    """``total`` POSTs from ``concurrency`` keep-alive connections; returns (statuses, error samples)."""
    counter = itertools.count()
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        mine: list[int] = []
        while (i := next(counter)) < total:
            try:
                conn.request("POST", "/model", body=bodies[i % len(bodies)], headers=headers)
                response = conn.getresponse()
                raw = response.read()
                mine.append(response.status)
                if response.status != 200 or not json.loads(raw)["success"]:
                    with lock:
                        errors.append(f"{response.status}: {raw[:200]!r}")
            except (OSError, http.client.HTTPException) as exc:
                mine.append(-1)
                with lock:
                    errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.close()
        with lock:
            statuses.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return statuses, errors


def test_2000_requests_at_concurrency_8_without_errors_or_memory_growth(
    auth_server: Server, store: Store
) -> None:
    rows = store.features.to_numpy().tolist()
    bodies = [json.dumps({"accessKey": ACCESS_KEY, "request": {"input": [row]}}).encode() for row in rows]
    send_load(auth_server, bodies, 200, CONCURRENCY)  # warm-up: allocator pools, connection buffers
    rss_before = auth_server.rss_kb()
    started = time.perf_counter()
    statuses, errors = send_load(auth_server, bodies, REQUESTS, CONCURRENCY)
    seconds = time.perf_counter() - started
    rss_after = auth_server.rss_kb()
    growth_mb = (rss_after - rss_before) / 1024
    print(
        f"\nload: {len(statuses)} requests at concurrency {CONCURRENCY} in {seconds:.2f}s "
        f"({len(statuses) / seconds:.0f} req/s), {len(errors)} errors; server RSS {rss_before / 1024:.1f} MB -> "
        f"{rss_after / 1024:.1f} MB (growth {growth_mb:+.1f} MB, bound {RSS_BOUND_MB} MB)"
    )
    assert len(statuses) == REQUESTS
    assert errors == []
    assert set(statuses) == {200}
    assert growth_mb < RSS_BOUND_MB
