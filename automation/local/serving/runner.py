"""The deployment process: read the config, load the model once, listen on loopback, serve.

Started by the local API server as ``python -m automation.local.serving CONFIG_JSON``. The socket
is bound before the ready file is written, so a caller that sees the file can connect at once (the
kernel queues connections until uvicorn accepts them). ``port`` 0 picks a free port; the ready file
(``{"pid": ..., "port": ...}``, mode 0600, written atomically) says which. The file is removed on
a clean shutdown (SIGTERM or SIGINT).

Exit codes: 0 clean shutdown, 2 bad config or usage, 10 the model cannot be loaded (see
automation.errors), 11 the port cannot be bound.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from automation.errors import EXIT_USAGE, CmlopsError, DeploymentFailed
from automation.local.serving.config import ServeConfig, load_config
from automation.local.serving.errors import ServeConfigError

log = logging.getLogger("automation.local.serving")

USAGE = "usage: python -m automation.local.serving CONFIG_JSON"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_config(args[0])
    except ServeConfigError as exc:
        print(f"model server: {exc}", file=sys.stderr)
        return exc.exit_code
    _configure_logging()
    try:
        serve(config)
    except CmlopsError as exc:
        log.error("model server: %s", exc)
        return exc.exit_code
    return 0


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    log.setLevel(logging.INFO)
    logging.getLogger("automation.local.serving.predictor").setLevel(logging.INFO)


def bind_loopback(host: str, port: int) -> socket.socket:
    """A listening TCP socket on the loopback address; DeploymentFailed when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise DeploymentFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def write_ready_file(path: str, pid: int, port: int) -> None:
    """Atomically write ``{"pid", "port"}`` with owner-only permissions."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{pid}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pid": pid, "port": port}, fh)
    os.replace(tmp, target)


def serve(config: ServeConfig) -> None:
    """Load the model, bind, announce readiness and serve until SIGTERM/SIGINT."""
    import uvicorn

    from automation.local.serving.app import ModelEndpoint
    from automation.local.serving.predictor import load_served_model

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    model: Any
    if config.function is not None:
        from automation.local.serving.function import FunctionModel

        spec = config.function
        model = FunctionModel(spec.project_dir, spec.file_path, spec.function_name)
    else:
        model = load_served_model(config.model_uri, config.tracking_uri, config.registry_uri)
    app: ModelEndpoint | None = None
    try:
        sock = bind_loopback(config.host, config.port)
        port = sock.getsockname()[1]
        app = ModelEndpoint(
            model,
            access_key=config.access_key,
            api_key_sha256=config.api_key_sha256 if config.auth else None,
            max_body_bytes=config.max_body_bytes,
            max_concurrency=config.max_concurrency,
            replica_id=f"local-{port}-0",
        )
        if config.large_body_bytes:
            from automation.local.serving.offload import Offload

            # Forks now, before uvicorn starts; the worker closes its copy of the listening socket.
            app.offload = Offload(app, config.large_body_bytes, close_in_worker=(sock.fileno(),))
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                http="httptools",
                loop=_loop_name(),
                interface="asgi3",
                lifespan="off",
                ws="none",
                access_log=False,
                log_config=None,
                log_level="warning",
                server_header=False,
                date_header=False,
                timeout_graceful_shutdown=5,
            )
        )
        log.info(
            "serving %s (flavor %s, %s) on %s:%d, auth %s",
            config.model_uri or model.description,
            model.flavor,
            "fast path" if model.fast_path else f"pyfunc: {model.fast_path_note}",
            config.host,
            port,
            "on" if config.auth else "off",
        )
        if config.ready_file:
            write_ready_file(config.ready_file, os.getpid(), port)
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler it
        # found in place; make that handler unwind to here (so the ready file is removed).
        signal.signal(signal.SIGTERM, _exit_on_signal)
        stopped = False
        try:
            server.run(sockets=[sock])
        except (_Stopped, KeyboardInterrupt):
            stopped = True  # SIGTERM / SIGINT (after uvicorn's graceful shutdown): a clean stop
        finally:
            sock.close()
            if config.ready_file:
                Path(config.ready_file).unlink(missing_ok=True)
        if not server.started and not stopped:
            raise DeploymentFailed(f"the HTTP server did not start on {config.host}:{port}")
    finally:
        if app is not None and app.offload is not None:
            app.offload.close()
        model.close()


class _Stopped(BaseException):
    """Raised by the SIGTERM handler once uvicorn has shut down gracefully."""


def _exit_on_signal(signum: int, frame: object) -> None:
    raise _Stopped


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


__all__ = ["bind_loopback", "main", "serve", "write_ready_file"]
