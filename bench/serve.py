"""Benchmark: the local deployment's endpoint against ``mlflow models serve`` on the same model.

One run, one machine, one load generator: the wine model (ElasticNet, alpha=0.5, l1_ratio=0.5,
random_state=42, trained on the 75% split of WINE_DATA and logged with a signature and an input
example into a temporary sqlite store) is served by both, their predictions are compared for the
same rows (they must be identical, not merely close), then the same bounded load -- a fixed number
of single-row requests at a fixed concurrency, from keep-alive connections on threads -- is sent to
each in turn. Prints requests/s, p50 and p99 for both and the ratios, and a markdown table.

    python bench/serve.py                       # 2000 requests, concurrency 8
    python bench/serve.py --requests 5000 --concurrency 16
    python bench/serve.py --model-uri models:/wine/1 --tracking-uri sqlite:///.cmlops/mlflow.db

Nothing leaves the machine: both servers listen on 127.0.0.1, mlflow runs with ``--env-manager
local`` (no environment is created), and the data set is read from WINE_DATA.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = "/work/shared/data/wine-quality.csv"
HOST = "127.0.0.1"


@dataclass
class Target:
    """One server under test: how to phrase a request for a row and how to read its prediction."""

    name: str
    port: int
    path: str
    headers: dict[str, str]
    wrap: Any  # rows -> JSON body (dict)
    unwrap: Any  # response body (dict) -> list of predictions


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    predictions: dict[int, float] = field(default_factory=dict)
    first_error: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def train_and_log(data_path: str, store: Path) -> tuple[str, str, list[str], list[list[float]]]:
    """Train the wine model, log and register it; return (model URI, tracking URI, columns, test rows)."""
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import ElasticNet
    from sklearn.model_selection import train_test_split

    data = pd.read_csv(data_path)
    train, test = train_test_split(data, test_size=0.25, random_state=42)
    train_x, test_x = train.drop(columns=["quality"]), test.drop(columns=["quality"])
    model = ElasticNet(alpha=0.5, l1_ratio=0.5, random_state=42).fit(train_x, train[["quality"]])
    tracking_uri = f"sqlite:///{store / 'mlflow.db'}"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    experiment = mlflow.create_experiment("bench-serve", artifact_location=(store / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(train_x, model.predict(train_x)),
            input_example=train_x.iloc[:5],
            registered_model_name="wine-bench",
        )
    return "models:/wine-bench/1", tracking_uri, list(train_x.columns), test_x.to_numpy().tolist()


def test_rows(data_path: str) -> tuple[list[str], list[list[float]]]:
    import pandas as pd
    from sklearn.model_selection import train_test_split

    data = pd.read_csv(data_path)
    _, test = train_test_split(data, test_size=0.25, random_state=42)
    test_x = test.drop(columns=["quality"])
    return list(test_x.columns), test_x.to_numpy().tolist()


def start(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    log = log_path.open("wb")
    return subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server we started, and its children (it leads its own process group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_until(check: Any, proc: subprocess.Popen[bytes], what: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}; log:\n{log_path.read_text()[-3000:]}")
        if check():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} not ready after {timeout:.0f}s; log:\n{log_path.read_text()[-3000:]}")


def http_ok(port: int, path: str) -> bool:
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        conn.request("GET", path)
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def call(conn: http.client.HTTPConnection, target: Target, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", target.path, body=body, headers=target.headers)
    response = conn.getresponse()
    return response.status, response.read()


def predict_rows(target: Target, rows: list[list[float]]) -> list[float]:
    conn = http.client.HTTPConnection(HOST, target.port, timeout=30)
    status, raw = call(conn, target, json.dumps(target.wrap(rows)).encode())
    conn.close()
    if status != 200:
        raise SystemExit(f"{target.name} answered {status}: {raw[:300]!r}")
    return target.unwrap(json.loads(raw))


def run_load(
    target: Target, rows: list[list[float]], total: int, concurrency: int, max_seconds: float
) -> LoadResult:
    """Send ``total`` single-row requests from ``concurrency`` keep-alive connections (bounded in time)."""
    bodies = [json.dumps(target.wrap([row])).encode() for row in rows]
    counter = itertools.count()
    result = LoadResult()
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, target.port, timeout=30)
        latencies, predictions, errors, first_error = [], {}, 0, ""
        while True:
            i = next(counter)
            if i >= total or time.perf_counter() > deadline:
                break
            k = i % len(bodies)
            t0 = time.perf_counter()
            try:
                status, raw = call(conn, target, bodies[k])
            except (OSError, http.client.HTTPException) as exc:
                status, raw = -1, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection(HOST, target.port, timeout=30)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors += 1
                first_error = first_error or f"{status}: {raw[:200]!r}"
            elif k not in predictions:
                predictions[k] = target.unwrap(json.loads(raw))[0]
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.predictions.update(predictions)
            result.errors += errors
            result.first_error = result.first_error or first_error

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    result.requests = len(result.latencies)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per server (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="time bound per load phase (default 60)"
    )
    parser.add_argument(
        "--compare-rows", type=int, default=50, help="rows compared between servers (default 50)"
    )
    parser.add_argument(
        "--data", default=os.environ.get("WINE_DATA", DEFAULT_DATA), help="wine CSV (env WINE_DATA)"
    )
    parser.add_argument("--model-uri", help="serve this model instead of training one (needs --tracking-uri)")
    parser.add_argument("--tracking-uri", help="MLflow store of --model-uri")
    args = parser.parse_args(argv)
    if bool(args.model_uri) != bool(args.tracking_uri):
        parser.error("--model-uri and --tracking-uri go together")
    if not Path(args.data).is_file():
        parser.error(f"--data: {args.data} not found (set WINE_DATA to the wine-quality CSV)")

    work = Path(tempfile.mkdtemp(prefix="cmlops-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        t0 = time.perf_counter()
        if args.model_uri:
            model_uri, tracking_uri = args.model_uri, args.tracking_uri
            columns, rows = test_rows(args.data)
        else:
            model_uri, tracking_uri, columns, rows = train_and_log(args.data, work)
        print(f"model {model_uri} ready in {time.perf_counter() - t0:.1f}s; {len(rows)} test rows")

        env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        mlflow_port = free_port()
        mlflow_log = work / "mlflow-serve.log"
        serve_cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri]
        serve_cmd += ["-h", HOST, "-p", str(mlflow_port), "--env-manager", "local"]
        procs.append(start(serve_cmd, env, mlflow_log))

        api_key, access_key = secrets.token_urlsafe(24), secrets.token_hex(16)
        ready = work / "ready.json"
        config = {
            "model_uri": model_uri,
            "tracking_uri": tracking_uri,
            "registry_uri": None,
            "host": HOST,
            "port": 0,
            "access_key": access_key,
            "auth": True,
            "api_key_sha256": hashlib.sha256(api_key.encode()).hexdigest(),
            "max_body_bytes": 5 * 1024 * 1024,
            "max_concurrency": 64,
            "ready_file": str(ready),
        }
        config_path = work / "serve.json"
        config_path.write_text(json.dumps(config))
        config_path.chmod(0o600)
        ours_log = work / "cmlops-serve.log"
        procs.append(
            start([sys.executable, "-m", "automation.local.serving", str(config_path)], env, ours_log)
        )

        wait_until(lambda: http_ok(mlflow_port, "/ping"), procs[0], "mlflow models serve", mlflow_log, 180)
        wait_until(ready.is_file, procs[1], "cmlops model server", ours_log, 180)
        ours_port = json.loads(ready.read_text())["port"]
        print(f"servers up in {time.perf_counter() - t0:.1f}s (mlflow :{mlflow_port}, cmlops :{ours_port})")

        mlflow_target = Target(
            "mlflow models serve",
            mlflow_port,
            "/invocations",
            {"Content-Type": "application/json"},
            lambda r: {"dataframe_split": {"columns": columns, "data": r}},
            lambda b: b["predictions"],
        )
        ours_target = Target(
            "cmlops local endpoint",
            ours_port,
            "/model",
            {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
            lambda r: {"accessKey": access_key, "request": {"input": r}},
            lambda b: b["response"]["prediction"],
        )

        sample = rows[: args.compare_rows]
        reference, ours = predict_rows(mlflow_target, sample), predict_rows(ours_target, sample)
        same = reference == ours
        print(f"identical predictions on {len(sample)} rows in one request: {same}")
        if not same:
            diff = sum(a != b for a, b in zip(reference, ours, strict=False))
            print(f"  {diff} of {len(sample)} differ; first: {reference[:3]} vs {ours[:3]}")

        results: dict[str, LoadResult] = {}
        for target in (mlflow_target, ours_target):
            run_load(target, rows, min(100, args.requests), args.concurrency, args.max_seconds)  # warm-up
            results[target.name] = res = run_load(
                target, rows, args.requests, args.concurrency, args.max_seconds
            )
            print(
                f"{target.name}: {res.requests} requests, {res.errors} errors, {res.rps:.0f} req/s, "
                f"p50 {res.quantile(0.5) * 1e3:.2f} ms, p99 {res.quantile(0.99) * 1e3:.2f} ms"
                + (f"  (first error {res.first_error})" if res.errors else "")
            )
        base, fast = results[mlflow_target.name], results[ours_target.name]
        common = set(base.predictions) & set(fast.predictions)
        row_same = all(base.predictions[k] == fast.predictions[k] for k in common)
        print(f"identical single-row predictions under load: {row_same} ({len(common)} distinct rows)")

        ratio = fast.rps / base.rps if base.rps else float("nan")
        p50_ratio = fast.quantile(0.5) / base.quantile(0.5)
        p99_ratio = fast.quantile(0.99) / base.quantile(0.99)
        print()
        print(
            f"Load: {args.requests} single-row requests per server at concurrency {args.concurrency}, loopback."
        )
        print()
        print("| server | requests | errors | req/s | p50 (ms) | p99 (ms) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, res in results.items():
            print(
                f"| {name} | {res.requests} | {res.errors} | {res.rps:.0f} | "
                f"{res.quantile(0.5) * 1e3:.2f} | {res.quantile(0.99) * 1e3:.2f} |"
            )
        print(f"| ratio (cmlops / mlflow) | | | {ratio:.2f}x | {p50_ratio:.2f}x | {p99_ratio:.2f}x |")
        print()
        print(f"Predictions identical: {same and row_same}")
        ok = same and row_same and base.errors == 0 and fast.errors == 0
        return 0 if ok else 1
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
