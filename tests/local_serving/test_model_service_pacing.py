"""The model service front under a flood: refusals of unread bodies paced by a token bucket, and
large bodies never parsed by the front. Live on loopback with raw sockets; no timing assertions
(the pacer's arithmetic is tested on a fake clock; live tests check order and outcome only)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable

from front_support import KEY, Rig, body, closed_by_peer, head, read_response, running_front

from automation.local.api.modelservice.keyscan import NEED_MORE, leading_key
from automation.local.api.modelservice.pacing import RefusalPacer


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def _bogus(rig: Rig) -> socket.socket:
    """A connection that declared 10 KB with an unknown key and sent only the body's first bytes."""
    sock = rig.connect()
    sock.sendall(head(10_000) + body({"input": [[1.0]]}, key="9" * 32)[:60])
    return sock


# --- the token bucket, on a fake clock -----------------------------------------------------------


def test_the_pacer_answers_a_burst_at_once_then_one_refusal_per_turn() -> None:
    now = [100.0]
    pacer = RefusalPacer(rate=2.0, held=3, clock=lambda: now[0])
    assert [pacer.reserve(), pacer.reserve()] == [0.0, 0.0]  # the burst: as many as a second's rate
    delays = []
    for _ in range(3):
        delays.append(pacer.reserve())
        pacer.waiting += 1  # what turn() does while the refusal waits
    assert delays == [0.5, 1.0, 1.5]  # queued behind each other, one every 1/rate seconds
    assert pacer.reserve() == 0.0  # `held` are waiting: the next one is answered at once
    now[0] += 0.5
    pacer.waiting = 0
    assert pacer.reserve() == 1.5  # the three turns taken are still owed: debt is kept
    now[0] += 100.0
    assert [pacer.reserve(), pacer.reserve(), pacer.reserve()] == [
        0.0,
        0.0,
        0.5,
    ]  # refilled to the burst only


def test_a_refusal_that_waits_stops_its_connection_being_read_first() -> None:
    now = [0.0]
    pacer = RefusalPacer(rate=1000.0, held=4, clock=lambda: now[0])
    paused: list[str] = []
    for n in range(1000):  # the burst: answered at once, reading never paused
        asyncio.run(pacer.turn(lambda n=n: paused.append(f"burst {n}")))
    asyncio.run(pacer.turn(lambda: paused.append("held")))  # waits 1 ms for its turn
    assert paused == ["held"] and pacer.waiting == 0


def test_a_slow_rate_still_allows_one_refusal_at_once() -> None:
    pacer = RefusalPacer(rate=0.25, held=1, clock=lambda: 0.0)
    assert pacer.reserve() == 0.0
    assert pacer.reserve() == 4.0


# --- live ---------------------------------------------------------------------------------------


def test_a_flood_of_refused_bodies_is_held_in_turn_and_bounded() -> None:
    with running_front(refusal_rate=0.25, held_refusals=1) as rig:
        with _bogus(rig) as first:
            assert read_response(first)[0] == 404  # within the burst: at once
        offered: list[object] = []
        turn = rig.front.pacer.turn

        async def spied(pause_reading: object = None) -> None:
            offered.append(pause_reading)
            await turn(pause_reading)  # type: ignore[arg-type]

        rig.front.pacer.turn = spied  # type: ignore[method-assign]
        second = _bogus(rig)
        _until(lambda: rig.front.pacer.waiting == 1, "the second refusal is held")
        assert offered and callable(offered[0])  # the server's protocol lets the front stop reading
        with _bogus(rig) as third:  # the one held slot is taken: answered at once, not held
            status, headers, _ = read_response(third)
            assert status == 404 and headers["connection"] == "close"
            assert rig.front.pacer.waiting == 1  # ... while the second still waits its turn
        with second:
            status, headers, raw = read_response(second)  # its turn comes: answered, then closed
            assert status == 404 and "no model has this access key" in raw.decode()
            assert closed_by_peer(second)
        assert rig.front.pacer.waiting == 0
        assert rig.model.calls == []


def test_a_large_call_refused_for_a_full_lane_waits_its_turn_too() -> None:
    with running_front(refusal_rate=0.25, held_refusals=1) as rig:
        big = body({"hold": True, "input": [[1.0]] * 1500})  # over the small lane's 4 KB
        holder = rig.connect()
        holder.sendall(head(len(big)) + big)
        assert rig.model.entered.acquire(timeout=30), "the held call never reached the model"
        with _bogus(rig) as first:  # takes the burst
            assert read_response(first)[0] == 404
        with rig.connect() as second:
            second.sendall(head(len(big)) + big[:100])  # the large lane's one slot is taken
            _until(lambda: rig.front.pacer.waiting == 1, "the 429 is held")
            status, headers, _ = read_response(second)
            assert status == 429 and headers["retry-after"] == "1" and headers["connection"] == "close"
        rig.model.release.set()
        assert read_response(holder)[0] == 200
        holder.close()


def test_refusals_of_bodies_read_whole_are_not_paced() -> None:
    with running_front(refusal_rate=0.25, held_refusals=1) as rig, rig.connect() as sock:
        for _ in range(3):  # small bodies read whole: answered on a kept-alive connection
            sock.sendall(head(9) + b"{not json")
            status, headers, _ = read_response(sock)
            assert status == 400 and "connection" not in headers
        assert rig.front.pacer.reserve() == 0.0  # the bucket is still full


def test_a_large_body_must_name_its_key_first() -> None:
    with running_front(parse_body_bytes=1024) as rig:
        rows = [[1.0]] * 300
        late = json.dumps({"request": {"input": rows}, "accessKey": KEY}).encode()
        assert 1024 < len(late) < rig.limits.small_body_bytes
        with rig.connect() as sock:
            sock.sendall(head(len(late)) + late[:100])  # refused on the declared length: rest unsent
            status, headers, raw = read_response(sock)
            assert status == 400 and headers["connection"] == "close"
            assert "first member" in json.loads(raw)["errors"]["accessKey"]
        with rig.connect() as sock:  # chunked: cut off once past the limit
            sock.sendall(head(None) + b"%x\r\n" % len(late) + late + b"\r\n")
            status, _, raw = read_response(sock)
            assert status == 400 and "?accessKey=" in json.loads(raw)["errors"]["accessKey"]
        first = json.dumps({"accessKey": KEY, "request": {"input": rows}}).encode()
        small_late = json.dumps({"request": {"input": rows[:10]}, "accessKey": KEY}).encode()
        for data in (first, small_late):
            with rig.connect() as sock:
                sock.sendall(head(len(data)) + data)
                assert read_response(sock)[0] == 200
        assert [len(c["input"]) for c in rig.model.calls] == [300, 10]


def test_the_key_scan_decides_as_soon_as_another_member_comes_first() -> None:
    assert leading_key(b'{"request": {"inp', False) is None  # no need to wait for 2 KB
    assert leading_key(b" [1, 2", False) is None  # not an object
    assert leading_key(b'{"accessKe', False) is NEED_MORE
    assert leading_key(b'{"accessKey" : "ab', False) is NEED_MORE
    assert leading_key(b"  ", False) is NEED_MORE
