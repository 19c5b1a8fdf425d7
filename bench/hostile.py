"""Benchmark: the workspace under hostile load, as an attacker on the same box would try it.

A local workspace is bootstrapped with the flagship model (as in serve.py). Two probes run through
every phase: an authenticated API call (``GET /api/v2/projects``) and a one-row model call through
``/model``, each from one connection with a short pause between calls. Phases, each bounded by
``--seconds`` and by a fixed number of attacking connections (attackers run in a separate process,
so the probes' own process stays quiet):

1. quiet: the probes alone (the baseline);
2. big bodies: a 1 GiB ``Content-Length`` POST without any key, then a 1 GiB chunked body with a
   valid key and auth, then ``--attackers`` connections sending 4.8 MB bodies with a bogus key back
   to back; the server's RSS is sampled throughout;
3. slow clients: ``--slow`` connections send a valid call's headers and then one body byte a
   second (they are dropped at the body timeout and come back);
4. big batches: ``--attackers`` connections send valid 4.8 MB batches (80,000 rows) back to back.

Prints each phase's probe p50/p99 next to the quiet baseline with the ratio, the attackers'
statuses, the server's RSS before, at its peak and after, and whether the targets are met: probe
p99 within 3x of quiet in every phase, and a 1 GiB body refused with the RSS rising < 20 MB.

    python bench/hostile.py                     # 15 s a phase, 4 attackers, 70 slow clients
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import sys
import threading
import time
from collections import Counter
from typing import Any

from cpuuse import CORES, CpuMeter, CpuShare, self_seconds
from loadgen import quantile, request_bytes
from workspace import Deployed, add_workspace_args, bootstrapped, check_data, rss_mb, tree_rss_mb

ROW = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]
BIG_ROWS = 80_000  # about 4.8 MB of JSON
GIB = 1024**3


# --- probes -------------------------------------------------------------------------------------


async def _probe(port: int, payload: bytes, until: float, pause: float, out: dict[str, Any]) -> None:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    loop = asyncio.get_running_loop()
    reader = writer = None
    while loop.time() < until:
        t0 = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(payload)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            statuses[int(head[9:12])] += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, IndexError, ValueError):
            statuses[0] += 1
            writer = None
        latencies.append(time.perf_counter() - t0)
        await asyncio.sleep(pause)
    if writer is not None:
        writer.close()
    out.update(
        p50=quantile(latencies, 0.5) * 1e3,
        p99=quantile(latencies, 0.99) * 1e3,
        n=len(latencies),
        statuses=dict(statuses),
    )


def probes(dep: Deployed, seconds: float, pause: float = 0.02) -> dict[str, dict[str, Any]]:
    api = (
        f"GET /api/v2/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {dep.api_key}\r\n\r\n"
    ).encode()
    model = request_bytes("/model", _call(dep.access_key, [ROW]), _auth(dep))
    results: dict[str, dict[str, Any]] = {"api": {}, "model": {}}

    async def main() -> None:
        until = asyncio.get_running_loop().time() + seconds
        await asyncio.gather(
            _probe(dep.port, api, until, pause, results["api"]),
            _probe(dep.port, model, until, pause, results["model"]),
        )

    asyncio.run(main())
    return results


def _call(key: str, rows: list[list[float]]) -> bytes:
    return json.dumps({"accessKey": key, "request": {"input": rows}}).encode()


def _auth(dep: Deployed) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {dep.api_key}"}


# --- attackers (run in a child process) ----------------------------------------------------------


def _recv_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0
        data += chunk
    return int(data[9:12])


def _flood(port: int, payload: bytes, until: float, counts: Counter[int], lock: threading.Lock) -> None:
    """Send ``payload`` on fresh connections back to back; count each answer's status (0: none)."""
    while time.monotonic() < until:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                try:
                    sock.sendall(payload)
                except OSError:
                    pass  # refused early and closed: read the answer anyway
                status = _recv_status(sock)
        except OSError:
            status = 0
        with lock:
            counts[status] += 1


def _slow(
    port: int, head: bytes, prefix: bytes, until: float, counts: Counter[int], lock: threading.Lock
) -> None:
    """A valid call's headers and first bytes, then one byte a second; reconnect when dropped."""
    while time.monotonic() < until:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
                sock.sendall(head + prefix)
                sock.settimeout(1.0)
                status = -1
                while time.monotonic() < until:
                    try:
                        status = _recv_status(sock)
                        break
                    except TimeoutError:
                        sock.sendall(b" ")
        except OSError:
            status = 0
        with lock:
            counts[status] += 1


def attack(kind: str, port: int, params: dict[str, Any], seconds: float, queue: Any) -> None:
    until = time.monotonic() + seconds
    counts: Counter[int] = Counter()
    lock = threading.Lock()
    threads: list[threading.Thread] = []
    if kind in ("bogus-big", "big-batches"):
        for _ in range(params["connections"]):
            threads.append(
                threading.Thread(target=_flood, args=(port, params["payload"], until, counts, lock))
            )
    elif kind == "slow":
        for _ in range(params["connections"]):
            threads.append(
                threading.Thread(
                    target=_slow, args=(port, params["head"], params["prefix"], until, counts, lock)
                )
            )
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((dict(counts), self_seconds()))


def gib_post(port: int, head: bytes, chunked: bool, prefix: bytes = b"") -> tuple[int, float, int]:
    """(status, seconds to the answer, bytes sent) for a 1 GiB body the server should refuse."""
    piece = b"0" * (1024 * 1024)
    sent = 0
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head + ((b"%x\r\n" % len(prefix) + prefix + b"\r\n") if chunked else b""))
        sock.setblocking(False)
        answer = b""
        while sent < GIB:
            try:
                answer += sock.recv(65536)
                if answer:
                    break
            except BlockingIOError:
                pass
            frame = (b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece
            try:
                sock.setblocking(True)
                sock.settimeout(5)
                sock.sendall(frame)
                sent += len(piece)
            except OSError:
                break
            finally:
                sock.setblocking(False)
        sock.setblocking(True)
        sock.settimeout(30)
        while b"\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    status = int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, time.perf_counter() - t0, sent


# --- phases ---------------------------------------------------------------------------------------


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self.peak = rss_mb(self.pid)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join()


def under_attack(
    dep: Deployed, kind: str, params: dict[str, Any], seconds: float
) -> tuple[dict, dict, CpuShare]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    with CpuMeter(dep.server_pid, dep.deployment_pid) as meter:
        proc = ctx.Process(target=attack, args=(kind, dep.port, params, seconds + 1.0, queue))
        proc.start()
        time.sleep(1.0)  # let the attack get going
        measured = probes(dep, seconds - 1.0)
        counts, attacker_cpu = queue.get(timeout=seconds + 120)
    proc.join(30)
    return measured, counts, meter.share(attacker_cpu)


def cpu_table(phases: list[tuple[str, dict, dict, CpuShare]]) -> str:
    """Each phase's CPU use by process, and what is left for the probes' processes."""
    lines = [
        f"| phase | server | its event loop busy / waiting for a core | deployment | its large-call worker | attacker | probes | others on the box | machine (of {CORES * 100}%) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, _, _, cpu in phases:
        lines.append(
            f"| {label} | {cpu.server:.0f}% | {cpu.loop_busy:.0f}% / {cpu.loop_waiting:.1f}% | {cpu.deployment:.0f}% | {cpu.worker:.0f}% | {cpu.attacker:.0f}% | "
            f"{cpu.probes:.0f}% | {cpu.others:.0f}% | {cpu.machine:.0f}% |"
        )
    return "\n".join(lines)


def why_missed(label: str, api_ratio: float, model_ratio: float, cpu: CpuShare, quiet: CpuShare) -> str:
    """Where the CPU went in a phase that missed 3x: saturation of the cores, or the service's work."""
    full = cpu.machine >= 0.9 * CORES * 100
    attack_cost = (
        cpu.attacker + (cpu.server - quiet.server) + (cpu.deployment - quiet.deployment) + cpu.worker
    )
    return (
        f"missed in '{label}' (API {api_ratio:.2f}x, /model {model_ratio:.2f}x): the machine was "
        f"{'saturated' if full else 'not saturated'} ({cpu.machine:.0f}% of {CORES * 100}%); the attack "
        f"cost {attack_cost:.0f}% of a core (its own load generator {cpu.attacker:.0f}%, the server "
        f"{cpu.server - quiet.server:+.0f}% over quiet, the deployment {cpu.deployment - quiet.deployment:+.0f}% "
        f"and its nice-10 worker {cpu.worker:.0f}%), other users of the box {cpu.others:.0f}%"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase (15)")
    parser.add_argument("--attackers", type=int, default=4, help="connections sending big bodies (4)")
    parser.add_argument("--slow", type=int, default=70, help="slow clients (70)")
    add_workspace_args(parser)
    args = parser.parse_args(argv)
    check_data(parser, args.data)
    with bootstrapped(args.data, args.state_dir) as dep:
        return _run(dep, args)


def _run(dep: Deployed, args: argparse.Namespace) -> int:
    auth = _auth(dep)
    big_valid = _call(dep.access_key, [ROW] * BIG_ROWS)
    bogus = _call("b" * 32, [ROW] * BIG_ROWS)
    slow_prefix = _call(dep.access_key, [ROW])[:-3]
    print(f"big body: {len(big_valid) / 1e6:.1f} MB ({BIG_ROWS} rows); server pid {dep.server_pid}")
    probes(dep, 2.0)  # warm-up
    rss_quiet = rss_mb(dep.server_pid)
    dep_rss_quiet = tree_rss_mb(dep.deployment_pid)
    with CpuMeter(dep.server_pid, dep.deployment_pid) as meter:
        quiet = probes(dep, args.seconds)
    phases: list[tuple[str, dict, dict, CpuShare]] = [("quiet", quiet, {}, meter.share())]
    print(f"quiet: {quiet}; server RSS {rss_quiet:.0f} MB; CPU {phases[0][3].summary()}", flush=True)

    # 1 GiB bodies: with a declared length and no key; chunked with a valid key and auth.
    lines = "\r\n".join(f"{k}: {v}" for k, v in auth.items())
    rss_before = rss_mb(dep.server_pid)
    with RssSampler(dep.server_pid) as sampler:
        declared = gib_post(
            dep.port, f"POST /model HTTP/1.1\r\nHost: x\r\nContent-Length: {GIB}\r\n\r\n".encode(), False
        )
        chunked = gib_post(
            dep.port,
            f"POST /model HTTP/1.1\r\nHost: x\r\n{lines}\r\nTransfer-Encoding: chunked\r\n\r\n".encode(),
            True,
            prefix=b'{"accessKey": "' + dep.access_key.encode() + b'", "request": {"input": [',
        )
        time.sleep(1.0)
    rss_after_gib = rss_mb(dep.server_pid)
    gib_rise = max(sampler.peak, rss_after_gib) - rss_before
    print(
        f"1 GiB with Content-Length, no key: status {declared[0]} after {declared[1] * 1e3:.0f} ms, {declared[2]} bytes sent; "
        f"1 GiB chunked with key: status {chunked[0]} after {chunked[1] * 1e3:.0f} ms, {chunked[2] / 1e6:.0f} MB sent; "
        f"server RSS {rss_before:.0f} MB before, peak {sampler.peak:.0f} MB, {rss_after_gib:.0f} MB after",
        flush=True,
    )

    attacks = [
        (
            "bogus-key 4.8 MB bodies",
            "bogus-big",
            {"connections": args.attackers, "payload": request_bytes("/model", bogus, auth)},
        ),
        (
            f"{args.slow} slow clients",
            "slow",
            {
                "connections": args.slow,
                # a valid call's first bytes under a Content-Length 1,000 bytes longer than them
                "head": request_bytes("/model", b"", auth).replace(
                    b"Content-Length: 0", b"Content-Length: %d" % (len(slow_prefix) + 1000)
                ),
                "prefix": slow_prefix,
            },
        ),
        (
            "valid 4.8 MB batches",
            "big-batches",
            {"connections": args.attackers, "payload": request_bytes("/model", big_valid, auth)},
        ),
    ]
    peaks: dict[str, float] = {}
    for label, kind, params in attacks:
        with RssSampler(dep.server_pid) as sampler:
            measured, counts, cpu = under_attack(dep, kind, params, args.seconds)
        peaks[label] = sampler.peak
        phases.append((label, measured, counts, cpu))
        print(
            f"{label}: {measured}; attackers' statuses {counts}; server RSS peak {sampler.peak:.0f} MB; "
            f"CPU {cpu.summary()}",
            flush=True,
        )
    time.sleep(2.0)
    rss_end = rss_mb(dep.server_pid)
    dep_rss_end = tree_rss_mb(dep.deployment_pid)

    print()
    print(
        "| phase | API p50 / p99 ms | API p99 vs quiet | /model p50 / p99 ms | /model p99 vs quiet | probe statuses | attackers' statuses |"
    )
    print("|---|---:|---:|---:|---:|---|---|")
    met = True
    missed: list[str] = []
    for label, m, counts, cpu in phases:
        ra, rm = m["api"]["p99"] / quiet["api"]["p99"], m["model"]["p99"] / quiet["model"]["p99"]
        bad = {k: v for k, v in {**m["api"]["statuses"], **m["model"]["statuses"]}.items() if k != 200}
        met = met and ra <= 3 and rm <= 3 and not bad
        if ra > 3 or rm > 3:
            missed.append(why_missed(label, ra, rm, cpu, phases[0][3]))
        print(
            f"| {label} | {m['api']['p50']:.1f} / {m['api']['p99']:.1f} | {ra:.2f}x | "
            f"{m['model']['p50']:.1f} / {m['model']['p99']:.1f} | {rm:.2f}x | "
            f"api {m['api']['statuses']}, model {m['model']['statuses']} | {counts or '-'} |"
        )
    print()
    print(cpu_table(phases))
    for line in missed:
        print(line)
    gib_ok = declared[0] == 413 and chunked[0] == 413 and gib_rise < 20
    print()
    print(
        f"1 GiB bodies: {declared[0]} (declared) and {chunked[0]} (chunked); RSS rise {gib_rise:.1f} MB (target < 20 MB); "
        f"server RSS quiet {rss_quiet:.0f} MB, after all attacks {rss_end:.0f} MB; "
        f"deployment (with its worker) {dep_rss_quiet:.0f} MB quiet, {dep_rss_end:.0f} MB after"
    )
    print(f"targets met: {met and gib_ok}")
    return 0 if met and gib_ok else 1


if __name__ == "__main__":
    sys.exit(main())
