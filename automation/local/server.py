"""``python -m automation.local.server --state-dir D [--port P]``: run the local workspace server.

Normally started (detached) by ``automation.local.control.start``; it binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from automation.local.state import serverlock
from automation.local.state.paths import DEFAULT_STATE_DIR, StatePaths


def _logger(paths: StatePaths, level: str) -> logging.Logger:
    log = logging.getLogger("cmlops.local")
    log.setLevel(level.upper())
    handler = logging.FileHandler(paths.server_log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    return log


# Receive buffer of every accepted connection (the kernel doubles it). Without it Linux autotunes a
# loopback connection's buffer up to tcp_rmem's maximum (32 MiB here), so a client whose call is
# refused after its first bytes could still push megabytes into the kernel, and many such clients
# cost the machine CPU and memory for nothing. 256 KiB still moves a 5 MiB body in milliseconds.
RECEIVE_BUFFER = 256 * 1024


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)  # inherited by accepted sockets
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m automation.local.server", description=__doc__)
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="state folder (default .cmlops)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)

    import uvicorn

    from automation.local.api.modelservice.limits import ServiceLimits
    from automation.local.api.modelservice.mount import mount
    from automation.local.api.modelservice.protocol import with_header_timeout
    from automation.local.app import create_app
    from automation.local.workspace import Workspace

    try:
        limits = ServiceLimits.from_env(os.environ)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    paths = StatePaths.of(args.state_dir)
    paths.ensure()
    lock = serverlock.acquire(paths)
    if lock is None:
        other = serverlock.holder(paths) or {}
        print(
            f"another local workspace server (pid {other.get('pid', '?')}, {other.get('url', '?')}) "
            f"already serves {paths.root}",
            file=sys.stderr,
        )
        return 3
    log = _logger(paths, args.log_level)
    try:
        sock = _bind(args.port)
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    serverlock.record(
        lock, paths, {"pid": os.getpid(), "port": port, "url": url, "model_service_url": url + "/model"}
    )
    ws = Workspace.open(paths, port, log)
    config = uvicorn.Config(
        mount(create_app(ws), ws, limits),  # /model is answered ahead of FastAPI's routing
        http=with_header_timeout(limits.header_timeout),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
