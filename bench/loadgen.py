"""Load generators for the benchmarks: wrk (C, when installed) and a raw-socket asyncio one.

Both send one fixed request over keep-alive connections for a fixed time and report requests/s and
latency quantiles; the asyncio one also counts statuses and keeps latencies per status, so "p99 of
the answered requests" and "nothing but 429" can be checked. Neither is part of the test suite.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Load:
    tool: str
    seconds: float
    requests: int
    p50_ms: float
    p99_ms: float
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # connection failures or unparseable answers
    answered_p99_ms: float = float("nan")  # p99 of the 2xx answers only (asyncio generator)
    max_ms: float = float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.requests} requests in {self.seconds:.1f}s = {self.rps:,.0f} req/s, p50 {self.p50_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms [{self.tool}; statuses {codes or 'n/a'}; errors {self.errors}]"
        )


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[min(998, round(q * 1000) - 1)]


def request_bytes(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _one_connection(
    port: int, payload: bytes, until: float, latencies: dict[int, list[float]], counts: Counter[int]
) -> int:
    errors = 0
    reader = writer = None
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            t0 = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            match = re.search(rb"(?i)content-length:\s*(\d+)", head)
            await reader.readexactly(int(match.group(1)) if match else 0)
            latencies.setdefault(status, []).append(time.perf_counter() - t0)
            counts[status] += 1
            if re.search(rb"(?i)connection:\s*close", head):
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()
    return errors


def run_asyncio(port: int, payload: bytes, connections: int, seconds: float) -> Load:
    """``connections`` keep-alive connections sending ``payload`` back to back for ``seconds``."""

    async def main() -> Load:
        latencies: dict[int, list[float]] = {}
        counts: Counter[int] = Counter()
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        until = loop.time() + seconds
        errors = await asyncio.gather(
            *(_one_connection(port, payload, until, latencies, counts) for _ in range(connections))
        )
        elapsed = time.perf_counter() - start
        every = [x for values in latencies.values() for x in values]
        ok = [x for code, values in latencies.items() if 200 <= code < 300 for x in values]
        return Load(
            "asyncio",
            elapsed,
            len(every),
            quantile(every, 0.5) * 1e3,
            quantile(every, 0.99) * 1e3,
            counts,
            sum(errors),
            quantile(ok, 0.99) * 1e3,
            max(every, default=float("nan")) * 1e3,
        )

    try:
        import uvloop

        return uvloop.run(main())
    except ImportError:
        return asyncio.run(main())


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


_LUA = """
wrk.method = "POST"
wrk.body = {body}
{headers}
"""


def _lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{b}" for b in data) + '"'


def run_wrk(
    port: int, path: str, body: bytes, headers: dict[str, str], connections: int, seconds: float
) -> Load:
    """wrk with 2 threads; statuses are only known as 2xx/3xx vs the rest (wrk's own counters)."""
    lines = "\n".join(
        f"wrk.headers[{_lua_string(k.encode())}] = {_lua_string(v.encode())}" for k, v in headers.items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_LUA.format(body=_lua_string(body), headers=lines))
        script = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(2, connections)),
                "-c",
                str(connections),
                "-d",
                f"{seconds:g}s",
                "--latency",
                "-s",
                script,
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        Path(script).unlink(missing_ok=True)
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))
    dur = re.search(r"requests in ([\d.]+)(m?s|m)\b", out)
    seconds_run = float(dur.group(1)) * {"s": 1, "ms": 1e-3, "m": 60}[dur.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    return Load(
        "wrk",
        seconds_run,
        total,
        _wrk_ms(out, "50%"),
        _wrk_ms(out, "99%"),
        Counter({200: total - bad, 0: bad}) if bad else Counter({200: total}),
        errors,
    )


def _wrk_ms(out: str, label: str) -> float:
    match = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not match:
        return float("nan")
    return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]
