"""Process and lock handling go through psutil and filelock: no /proc reads, no fcntl imports."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
import time
from pathlib import Path

from automation.local.workloads.procs import alive, cmdline, exclusive_lock

PACKAGE = Path(__file__).resolve().parents[2] / "automation"


def test_no_module_reads_proc_or_imports_fcntl() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.split(".")[0] == "fcntl" for n in names):
                offenders.append(f"{path.relative_to(PACKAGE)}: imports fcntl")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("/proc/")
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}: reads {node.value}")
            if isinstance(node, ast.JoinedStr) and ast.unparse(node).startswith(("f'/proc/", 'f"/proc/')):
                offenders.append(f"{path.relative_to(PACKAGE)}: reads /proc")
    assert offenders == []


def test_a_process_is_alive_until_it_exits_and_a_zombie_counts_as_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "cmlops-probe-marker"])
    try:
        assert alive(proc.pid)
        # Right after fork the child may not have exec'd yet (its command line is the parent's or
        # empty): wait for the new program's command line, as the callers of cmdline() do.
        deadline = time.monotonic() + 10
        while "cmlops-probe-marker" not in cmdline(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "cmlops-probe-marker" in cmdline(proc.pid)
        proc.kill()
        deadline = time.monotonic() + 10
        while alive(proc.pid) and time.monotonic() < deadline:  # not reaped yet: a zombie
            time.sleep(0.05)
        assert not alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert cmdline(proc.pid) == ""


def test_the_lock_is_exclusive_between_holders(tmp_path: Path) -> None:
    lock = tmp_path / "x" / "lock"
    order: list[str] = []
    with exclusive_lock(lock):
        other = threading.Thread(target=lambda: _take(lock, order))
        other.start()
        time.sleep(0.3)
        order.append("first released")
    other.join(10)
    assert order == ["first released", "second took it"]


def _take(lock: Path, order: list[str]) -> None:
    with exclusive_lock(lock):
        order.append("second took it")
