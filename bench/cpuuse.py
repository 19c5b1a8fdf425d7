"""Where the CPU went during a bench phase: per process (from /proc) and for the whole machine.

On a 2-core machine a probe's latency under attack is bounded below by the CPU left to it: when
the attacking process, the server and the deployment together want more than the cores, every
process (the probes' too) waits for a core. ``CpuMeter`` samples, for one phase, the CPU seconds of
the server, the deployment (with its large-call worker), the probes' own process and the machine
as a whole (``/proc/stat``, so other users of the box show up as "others"); the attacker reports
its own CPU (``os.times``) since it runs in a process that exits with the phase.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def children_seconds(pid: int) -> float:
    """A process's direct children (a deployment's large-call worker)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return sum(process_seconds(int(c)) for c in children)


def loop_thread_seconds(pid: int) -> tuple[float, float]:
    """(seconds on a core, seconds runnable but waiting for one) of a process's main thread: the
    event loop's, for the server; the second is the loop's wait caused by CPU saturation."""
    try:
        run, wait = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
    except OSError:
        return 0.0, 0.0
    return int(run) / 1e9, int(wait) / 1e9


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle, all cores together, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICK


def self_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class CpuShare:
    """A phase's CPU use, in percent of one core (200% = both cores of a 2-core machine)."""

    seconds: float
    server: float
    deployment: float  # the deployment's server process
    worker: float  # its large-call worker (nice 10)
    probes: float
    attacker: float
    machine: float
    loop_busy: float = 0.0  # the server's event-loop thread on a core
    loop_waiting: float = 0.0  # ... runnable but waiting for a core (saturation, not our code)

    @property
    def others(self) -> float:
        ours = self.server + self.deployment + self.worker + self.probes + self.attacker
        return max(0.0, self.machine - ours)

    def summary(self) -> str:
        return (
            f"server {self.server:.0f}%, deployment {self.deployment:.0f}% + worker {self.worker:.0f}%, "
            f"attacker {self.attacker:.0f}%, "
            f"probes {self.probes:.0f}%, others {self.others:.0f}%; machine {self.machine:.0f}% of {CORES * 100}%; "
            f"server event loop busy {self.loop_busy:.0f}%, waiting for a core {self.loop_waiting:.1f}%"
        )


class CpuMeter:
    """``with CpuMeter(server, deployment) as m: ...``; then ``m.share(attacker_seconds)``."""

    def __init__(self, server_pid: int, deployment_pid: int) -> None:
        self.server_pid, self.deployment_pid = server_pid, deployment_pid

    def _sample(self) -> tuple[float, ...]:
        return (
            time.monotonic(),
            process_seconds(self.server_pid),
            process_seconds(self.deployment_pid),
            children_seconds(self.deployment_pid),
            self_seconds(),
            machine_busy_seconds(),
            *loop_thread_seconds(self.server_pid),
        )

    def __enter__(self) -> CpuMeter:
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        self._end = self._sample()

    def share(self, attacker_seconds: float = 0.0) -> CpuShare:
        d = [b - a for a, b in zip(self._start, self._end, strict=True)]
        wall = d[0] or 1e-9
        return CpuShare(
            seconds=wall,
            server=100 * d[1] / wall,
            deployment=100 * d[2] / wall,
            worker=100 * d[3] / wall,
            probes=100 * d[4] / wall,
            attacker=100 * attacker_seconds / wall,
            machine=100 * d[5] / wall,
            loop_busy=100 * d[6] / wall,
            loop_waiting=100 * d[7] / wall,
        )
