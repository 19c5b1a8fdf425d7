"""Benchmark: the model service path users call, against ``mlflow models serve``, in one run.

A local workspace is started in a temporary folder and the flagship spec is bootstrapped on it
(the wine model trained by the job, registered, built, deployed). Then three targets serve that
same registered model on this machine:

* ``mlflow models serve`` (``--env-manager local``) on the model's ``models:/`` URI,
* the workspace's model service URL ``<workspace>/model`` (what users and ``cmlops predict`` call),
* the deployment's own loopback port (what ``/model`` passes through to).

Their predictions are compared for the same 50 rows (``/model`` and the port: identical floats;
mlflow serve, which runs the model in cmlops' own environment while the deployment runs on its
runtime with the model's recorded requirements: within 1e-9 relative), then each
gets the same load for ``--seconds`` (wrk with 2 threads when installed, else the asyncio generator)
at ``--concurrency``, ``--rounds`` times in turn. Then ``--burst`` concurrent clients hit ``/model``
(asyncio generator: statuses and the p99 of the answered calls). Prints the table, the headline
ratio (``/model`` over mlflow) and whether the targets are met: ``/model`` >= 10x mlflow's req/s,
its p99 <= 3x the deployment port's, and at the burst only 200 or 429 with answered p99 <= 1 s.

    python bench/serve.py                       # 15 s per target and round, 2 rounds
    python bench/serve.py --seconds 10 --rounds 1 --concurrency 8 --burst 100

Nothing leaves the machine; everything listens on 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import Load, have_wrk, request_bytes, run_asyncio, run_wrk
from workspace import Deployed, add_workspace_args, bootstrapped, check_data, free_port

HOST = "127.0.0.1"


@dataclass
class Target:
    name: str
    port: int
    path: str
    headers: dict[str, str]
    wrap: Callable[[list[list[float]]], dict[str, Any]]
    unwrap: Callable[[dict[str, Any]], list[float]]

    def body(self, rows: list[list[float]]) -> bytes:
        return json.dumps(self.wrap(rows)).encode()

    def predict(self, rows: list[list[float]]) -> list[float]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        conn.request("POST", self.path, body=self.body(rows), headers=self.headers)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        if response.status != 200:
            raise SystemExit(f"{self.name} answered {response.status}: {raw[:300]!r}")
        return self.unwrap(json.loads(raw))

    def load(self, rows: list[list[float]], connections: int, seconds: float, tool: str) -> Load:
        body = self.body(rows)
        if tool == "wrk":
            return run_wrk(self.port, self.path, body, self.headers, connections, seconds)
        return run_asyncio(self.port, request_bytes(self.path, body, self.headers), connections, seconds)


def test_rows(data_path: str) -> tuple[list[str], list[list[float]]]:
    import pandas as pd
    from sklearn.model_selection import train_test_split

    data = pd.read_csv(data_path)
    _, test = train_test_split(data, test_size=0.25, random_state=42)
    test_x = test.drop(columns=["quality"])
    return list(test_x.columns), test_x.to_numpy().tolist()


def start_mlflow(model_uri: str, tracking_uri: str, work: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    log = work / "mlflow-serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CML_", "CDSW_"))}
    env.update(MLFLOW_TRACKING_URI=tracking_uri, MLFLOW_REGISTRY_URI=tracking_uri)
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri]
    cmd += ["-h", HOST, "-p", str(port), "--env-manager", "local"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"mlflow models serve exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return proc, port, log
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"mlflow models serve not ready after 180 s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def targets(dep: Deployed, mlflow_port: int, columns: list[str]) -> list[Target]:
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {dep.api_key}"}

    def ours(rows: list[list[float]]) -> dict[str, Any]:
        return {"accessKey": dep.access_key, "request": {"input": rows}}

    def theirs(body: dict[str, Any]) -> list[float]:
        return body["response"]["prediction"]

    return [
        Target(
            "mlflow models serve",
            mlflow_port,
            "/invocations",
            {"Content-Type": "application/json"},
            lambda rows: {"dataframe_split": {"columns": columns, "data": rows}},
            lambda body: body["predictions"],
        ),
        Target("workspace /model", dep.port, "/model", auth, ours, theirs),
        Target("deployment port", dep.deployment_port, "/model", auth, ours, theirs),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="load time per target and round (15)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the three targets (2)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections (8)")
    parser.add_argument(
        "--burst", type=int, default=100, help="concurrent clients on /model at the end (100)"
    )
    parser.add_argument("--tool", choices=["auto", "wrk", "asyncio"], default="auto", help="load generator")
    add_workspace_args(parser)
    args = parser.parse_args(argv)
    check_data(parser, args.data)
    tool = ("wrk" if have_wrk() else "asyncio") if args.tool == "auto" else args.tool
    columns, rows = test_rows(args.data)
    work = Path(tempfile.mkdtemp(prefix="cmlops-bench-serve-"))
    with bootstrapped(args.data, args.state_dir) as dep:
        mlflow, mlflow_port, _ = start_mlflow(dep.model_uri, dep.tracking_uri, work)
        try:
            return _measure(args, tool, targets(dep, mlflow_port, columns), rows, dep)
        finally:
            stop(mlflow)
            shutil.rmtree(work, ignore_errors=True)


def _measure(
    args: argparse.Namespace, tool: str, all_targets: list[Target], rows: list[list[float]], dep: Deployed
) -> int:
    mlflow_t, model_t, port_t = all_targets
    sample = rows[:50]
    answers = [t.predict(sample) for t in all_targets]
    # /model and the port are one server: identical floats. mlflow serve runs the model in cmlops'
    # own environment, the deployment on its runtime with the model's recorded requirements (as CML
    # builds it), so their scikit-learn/numpy builds may differ in the last bits: close, not equal.
    gap = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(answers[0], answers[1], strict=True))
    same = answers[1] == answers[2] and gap <= 1e-9
    print(
        f"predictions on {len(sample)} rows: /model == port: {answers[1] == answers[2]}; "
        f"mlflow vs /model: largest relative gap {gap:.1e} (<= 1e-9: {gap <= 1e-9})"
    )
    one_row = [rows[0]]
    singles = [t.predict(one_row) for t in all_targets]
    same = same and singles[1] == singles[2]
    print(f"load input: one row {one_row[0]} -> {singles[1]} on /model and port: {singles[1] == singles[2]}")
    print(
        f"load: {tool}, {args.concurrency} connections, {args.seconds:g} s per target, {args.rounds} round(s)"
    )

    results: dict[str, list[Load]] = {t.name: [] for t in all_targets}
    for round_no in range(args.rounds):
        for target in all_targets:
            target.load(one_row, args.concurrency, min(3.0, args.seconds), tool)  # warm-up
            load = target.load(one_row, args.concurrency, args.seconds, tool)
            results[target.name].append(load)
            print(f"round {round_no + 1} {target.name}: {load.summary()}", flush=True)

    burst = model_t.load(one_row, args.burst, args.seconds, "asyncio")
    print(
        f"burst: {args.burst} clients on /model: {burst.summary()}; answered p99 {burst.answered_p99_ms:.0f} ms, max {burst.max_ms:.0f} ms"
    )

    print()
    print(
        f"| target | req/s ({' / '.join(f'round {i + 1}' for i in range(args.rounds))}) | p50 ms | p99 ms | errors |"
    )
    print("|---|---:|---:|---:|---:|")
    for target in all_targets:
        loads = results[target.name]
        print(
            f"| {target.name} | {' / '.join(f'{x.rps:,.0f}' for x in loads)} | "
            f"{' / '.join(f'{x.p50_ms:.1f}' for x in loads)} | {' / '.join(f'{x.p99_ms:.1f}' for x in loads)} | "
            f"{sum(x.errors + sum(n for c, n in x.statuses.items() if c != 200) for x in loads)} |"
        )
    ratio = [m.rps / f.rps for m, f in zip(results[model_t.name], results[mlflow_t.name], strict=True)]
    p99 = [m.p99_ms / p.p99_ms for m, p in zip(results[model_t.name], results[port_t.name], strict=True)]
    print()
    print(
        f"HEADLINE /model over mlflow models serve: {' / '.join(f'{r:.1f}x' for r in ratio)} req/s (target >= 10x)"
    )
    print(f"/model p99 over the deployment port's p99: {' / '.join(f'{r:.2f}x' for r in p99)} (target <= 3x)")
    other = {code: n for code, n in burst.statuses.items() if code not in (200, 429)}
    print(
        f"burst of {args.burst}: statuses {dict(burst.statuses)}, connection errors {burst.errors}, "
        f"answered p99 {burst.answered_p99_ms:.0f} ms (target: only 200/429, p99 <= 1000 ms)"
    )
    met = (
        same
        and min(ratio) >= 10
        and max(p99) <= 3
        and not other
        and burst.errors == 0
        and burst.answered_p99_ms <= 1000
    )
    print(f"predictions agree: {same}; targets met: {met}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
