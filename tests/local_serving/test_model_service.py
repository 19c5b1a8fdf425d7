"""The model service front (``<workspace>/model``) live on loopback, reached with raw sockets:
pass-through, routing errors, and every limit it enforces before or while reading a body. No
timing assertions: timeouts are configured short and only their outcome is checked."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest
from front_support import (
    API_KEY,
    KEY,
    OTHER_KEY,
    Rig,
    body,
    closed_by_peer,
    head,
    read_response,
    running_front,
)

from automation.local.api.modelservice.keyscan import NEED_MORE, leading_key
from automation.local.api.modelservice.limits import ServiceLimits
from automation.local.workloads.routes import KeyIndex


@pytest.fixture
def rig() -> Any:
    with running_front() as value:
        yield value


def call(rig: Rig, data: bytes, *, auth: bool = True, path: str = "/model") -> tuple[int, dict, Any]:
    with rig.connect() as sock:
        sock.sendall(head(len(data), auth=auth, path=path) + data)
        status, headers, raw = read_response(sock)
    return status, headers, json.loads(raw) if raw.startswith(b"{") else raw


def errors(answer: tuple[int, dict, Any]) -> dict[str, str]:
    assert answer[2]["success"] is False, answer
    return answer[2]["errors"]


# --- pass-through and routing ----------------------------------------------------------------


def test_a_call_passes_through_to_the_deployment_and_back(rig: Rig) -> None:
    status, headers, answer = call(rig, body({"input": [[1.0], [2.0]]}))
    assert status == 200, answer
    assert answer == {"success": True, "response": {"prediction": [2]}, "ReplicaID": "local-test-0"}
    assert headers["content-type"] == "application/json"
    assert rig.model.calls == [{"input": [[1.0], [2.0]]}]


def test_the_key_may_come_in_the_query_or_anywhere_in_the_body(rig: Rig) -> None:
    late = json.dumps({"request": {"input": [[1.0]]}, "accessKey": KEY}).encode()
    assert call(rig, late)[0] == 200
    with rig.connect() as sock:
        data = json.dumps({"request": {"input": [[1.0]]}}).encode()
        sock.sendall(head(len(data), path=f"/model?accessKey={KEY}") + data)
        assert read_response(sock)[0] == 200
    escaped = b'{"accessKey": "' + "".join(f"\\u{ord(c):04x}" for c in KEY).encode() + b'", "request": {}}'
    assert call(rig, escaped)[0] == 200  # routed by the JSON-decoded key
    assert len(rig.model.calls) == 3


def test_other_paths_go_to_the_wrapped_app(rig: Rig) -> None:
    with rig.connect() as sock:
        sock.sendall(b"GET /api/v2/projects HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock)[2] == b"inner"


def test_routing_errors_keep_the_model_endpoint_envelope(rig: Rig) -> None:
    assert "no model has this access key" in errors(call(rig, body({}, key="9" * 32)))["accessKey"]
    missing = call(rig, json.dumps({"request": {}}).encode())
    assert missing[0] == 400 and "missing" in errors(missing)["accessKey"]
    bad = call(rig, b"{not json")
    assert bad[0] == 400 and "not valid JSON" in errors(bad)["request"]
    idle = call(rig, body({}, key=OTHER_KEY))
    assert idle[0] == 503 and "no running deployment" in errors(idle)["model"]
    get = rig.connect()
    get.sendall(b"GET /model HTTP/1.1\r\nHost: t\r\n\r\n")
    assert read_response(get)[0] == 405
    get.close()
    assert rig.model.calls == []


def test_model_auth_is_checked_before_the_body_is_read(rig: Rig) -> None:
    with rig.connect() as sock:
        sock.sendall(head(60_000, auth=False) + body({"input": [[1.0]]})[:100])  # most of it never sent
        status, headers, raw = read_response(sock)
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert "missing or wrong API key" in json.loads(raw)["errors"]["auth"]
    assert API_KEY not in raw.decode() and KEY not in raw.decode()
    assert rig.model.calls == []


def test_a_dead_deployment_is_a_503_not_a_hang(rig: Rig) -> None:
    rig.front.routes.set(KEY, rig.front.routes.get(KEY).__class__("dep-1", _closed_port(), auth=True))
    answer = call(rig, body({"input": [[1.0]]}))
    assert answer[0] == 503 and "did not answer" in errors(answer)["model"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- limits before reading -----------------------------------------------------------------


def test_an_oversized_content_length_is_refused_before_the_body_is_read(rig: Rig) -> None:
    with rig.connect() as sock:
        sock.sendall(head(1024**3))  # 1 GiB declared, not one byte of it sent
        status, headers, raw = read_response(sock)
        assert status == 413 and headers["connection"] == "close"
        assert "limit is 65536 bytes" in json.loads(raw)["errors"]["request"]
        assert closed_by_peer(sock)
    assert rig.model.calls == []


def test_a_chunked_body_is_cut_off_at_the_limit() -> None:
    with running_front(body_timeout=60) as rig:
        sent, reply = _stream_until_answered(rig)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"limit is 65536 bytes" in reply
    assert sent < 1000 * 1000  # refused long before the client stopped
    assert rig.model.calls == []


def _stream_until_answered(rig: Rig) -> tuple[int, bytes]:
    """Send a valid chunked call of up to 1 MB, 1 KB a chunk, until the server answers."""
    prefix = b'{"accessKey": "' + KEY.encode() + b'", "request": {"input": ['
    piece = b"[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]," * 25  # 1 KB
    sent = 0
    with rig.connect() as sock:
        sock.sendall(head(None) + b"%x\r\n" % len(prefix) + prefix + b"\r\n")
        sock.settimeout(0.01)
        reply = b""
        for _ in range(1000):  # up to 1 MB, far past the 64 KB limit
            try:
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                sent += len(piece)
            except OSError:
                break
            try:
                reply = sock.recv(65536)
            except TimeoutError:
                continue
            break
        sock.settimeout(10)
        while b"\r\n\r\n" not in reply:
            more = sock.recv(65536)
            assert more, f"closed without an answer after {sent} bytes"
            reply += more
    return sent, reply


def test_a_slow_body_is_dropped_after_the_body_timeout(rig: Rig) -> None:
    data = body({"input": [[1.0]]})
    with rig.connect() as sock:
        sock.sendall(head(len(data)) + data[:-5])  # the last bytes never come
        status, headers, raw = read_response(sock)
        assert status == 408 and headers["connection"] == "close"
        assert "did not arrive within 1 s" in json.loads(raw)["errors"]["request"]
        assert closed_by_peer(sock)
    assert rig.model.calls == []


def test_slow_small_senders_hold_no_slot() -> None:
    with running_front(body_timeout=30) as rig:  # 2 small slots
        data = body({"input": [[1.0]]})
        slow = [rig.connect() for _ in range(5)]
        for sock in slow:
            sock.sendall(head(len(data)) + data[:-5])  # key and auth sent, the body never finishes
        assert call(rig, body({"input": [[1.0]]}))[0] == 200
        for sock in slow:
            sock.close()


def test_slow_headers_are_dropped_after_the_header_timeout(rig: Rig) -> None:
    with rig.connect() as sock:
        sock.sendall(b"POST /model HTTP/1.1\r\nHost: t\r\n")  # the headers never end
        assert closed_by_peer(sock)
    with rig.connect() as idle:  # connects and says nothing at all
        assert closed_by_peer(idle)
    assert call(rig, body({"input": [[1.0]]}))[0] == 200  # the server is unharmed


def _hold(rig: Rig, data: bytes) -> threading.Thread:
    thread = threading.Thread(target=call, args=(rig, data), daemon=True)
    thread.start()
    assert rig.model.entered.acquire(timeout=30), "the held call never reached the model"
    return thread


def test_a_full_lane_answers_429_with_retry_after(rig: Rig) -> None:
    held = [_hold(rig, body({"hold": True, "input": [[1.0]]})) for _ in range(2)]  # small lane: 2 slots
    status, headers, answer = call(rig, body({"input": [[1.0]]}))
    assert status == 429 and headers["retry-after"] == "1"
    assert "busy" in answer["errors"]["model.busy"]
    rig.model.release.set()
    for thread in held:
        thread.join(30)
    assert call(rig, body({"input": [[1.0]]}))[0] == 200  # slots come back


def test_large_calls_have_their_own_lane_so_small_ones_still_get_through(rig: Rig) -> None:
    big = body({"hold": True, "input": [[1.0]] * 1500})  # about 10 KB: the large lane (1 slot)
    assert len(big) > rig.limits.small_body_bytes
    held = _hold(rig, big)
    second = call(rig, body({"input": [[1.0]] * 1500}))
    assert second[0] == 429 and second[1]["retry-after"] == "1"
    assert call(rig, body({"input": [[1.0]]}))[0] == 200  # the small lane is untouched
    rig.model.release.set()
    held.join(30)


def test_concurrency_beyond_the_lanes_is_refused_not_queued() -> None:
    with running_front(small_concurrency=4) as rig:
        held = [_hold(rig, body({"hold": True, "input": [[1.0]]})) for _ in range(4)]
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda: results.append(call(rig, body({"input": [[1.0]]}))[0]))
            for _ in range(20)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert results == [429] * 20
        rig.model.release.set()
        for thread in held:
            thread.join(30)
        assert len(rig.model.calls) == 4


# --- the parts ----------------------------------------------------------------------------


def test_leading_key_reads_only_a_first_member() -> None:
    assert leading_key(b' {\n "accessKey" : "abc", "request": 1}', True) == "abc"
    assert leading_key(b'{"accessKey": "a\\"b"}', True) == 'a"b'
    assert leading_key(b'{"request": {"accessKey": "abc"}}', True) is None
    assert leading_key(b'{"accessKey": 5}', True) is None
    assert leading_key(b'{"acces', False) is NEED_MORE
    assert leading_key(b'{"request": [' + b"1," * 2000, False) is None  # decided once long enough


def test_key_index_refreshes_at_most_once_per_interval() -> None:
    loads: list[int] = []
    now = [0.0]
    keys = {"a"}

    def load() -> set[str]:
        loads.append(1)
        return set(keys)

    index = KeyIndex(load, max_age=1.0, clock=lambda: now[0])
    assert index.known("a") and not index.known("b")
    keys.add("b")
    for _ in range(100):
        assert not index.known("b")  # a flood of misses: no reload within the interval
    now[0] = 1.5
    assert index.known("b")
    assert len(loads) == 2


def test_limits_come_from_the_environment_with_clear_errors() -> None:
    limits = ServiceLimits.from_env({"CMLOPS_MODEL_SERVICE": "body_timeout=2.5,small_concurrency=4"})
    assert (limits.body_timeout, limits.small_concurrency) == (2.5, 4)
    with pytest.raises(ValueError, match="unknown setting 'bogus=1'"):
        ServiceLimits.from_env({"CMLOPS_MODEL_SERVICE": "bogus=1"})
    with pytest.raises(ValueError, match="small_concurrency must be a number"):
        ServiceLimits.from_env({"CMLOPS_MODEL_SERVICE": "small_concurrency=x"})
    with pytest.raises(ValueError, match="must be positive"):
        ServiceLimits.from_env({"CMLOPS_MODEL_SERVICE": "max_body_bytes=0"})


def test_pool_reuses_connections(rig: Rig) -> None:
    for _ in range(5):
        assert call(rig, body({"input": [[1.0]]}))[0] == 200
    time.sleep(0.05)
    idle = sum(len(v) for v in rig.front.pool._idle.values())
    assert idle == 1  # five sequential calls, one upstream connection
