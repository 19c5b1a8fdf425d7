"""Progress people can follow, on stderr, whatever the output format.

One renderer for every command that waits (bootstrap, apply, promote, amp launch):

* **On a terminal**: while a workload runs, one live status line (spinner, what, its status, the
  seconds elapsed, ticking between polls) with the last lines of its log underneath when the
  workspace keeps one (the local workspace's job runs, builds and deployments).
* **Elsewhere** (CI logs, pipes, ``TERM=dumb``, ``CI=true``): one line per state change, never one
  per poll, each with the elapsed time.

Either way stdout stays the command's result (one JSON document with ``-o json``).

Use::

    progress = Progress(console, log_tail=lambda ident: ...)   # console: a rich Console on stderr
    progress.step("create project wine-dev")                   # a step begins
    progress.step_done("done in 0.4s", ok=True)                # and ends
    progress.wait(event)                                       # an automation.api.base.WaitEvent
    progress.note("text")                                      # a line of its own
    progress.close()                                           # stop any live line (idempotent)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

# What a status means while one waits on it, said once when it first shows.
STATUS_HINTS = {
    "ENGINE_SCHEDULING": "waiting for an engine; a project's first run also builds its environment",
    "ENGINE_STARTING": "the engine starts (runtime image, project files)",
    "building": "installing the model's dependencies and loading it",
    "deploying": "starting the model's replicas",
    "pending": "queued",
}
LOG_LINES = 6
LogTail = Callable[[str, int], "str | None"]


def live_wanted(console: Any, environ: dict[str, str] | None = None) -> bool:
    """A live line only on an interactive terminal: never under CI, in pipes or with TERM=dumb."""
    env = os.environ if environ is None else environ
    if env.get("CI", "").lower() in ("1", "true", "yes") or env.get("TERM") == "dumb":
        return False
    return bool(getattr(console, "is_terminal", False)) and not getattr(console, "is_dumb_terminal", False)


class _LiveView:
    """The renderable of the live line: recomputed on every refresh, so the seconds tick."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.spinner import Spinner
        from rich.text import Text

        p = self.progress
        elapsed = p.clock() - p.wait_started
        line = Text.assemble((f"{p.what}: ", "bold"), (p.status, "cyan"), (f"  {elapsed:5.0f}s", "dim"))
        parts: list[Any] = [Spinner("dots", text=line)]
        tail = p.current_tail()
        if tail:
            parts.extend(Text(f"    | {row}", style="dim", overflow="ellipsis", no_wrap=True) for row in tail)
        return Group(*parts)


class Progress:
    """Renders steps and waits on a stderr console (see the module docstring)."""

    def __init__(
        self,
        console: Any,
        *,
        live: bool | None = None,
        log_tail: LogTail | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.live_mode = live_wanted(console) if live is None else live
        self.log_tail = log_tail
        self.clock = clock
        self.what = ""
        self.status = ""
        self.subject: str | None = None
        self.wait_started = 0.0
        self._printed: dict[str, str] = {}  # what -> last status printed
        self._hinted: set[str] = set()
        self._live: Any = None
        self._tail_cache: tuple[float, list[str]] = (0.0, [])

    # -- steps and notes --------------------------------------------------------------------------

    def step(self, title: str) -> None:
        from rich.markup import escape

        self._stop_live()
        self.console.print(f"[bold]{escape(title)}[/bold] ...")

    def step_done(self, outcome: str, *, ok: bool = True) -> None:
        self._stop_live()
        color = "green" if ok else "red"
        self.console.print(f"    [{color}]{outcome}[/{color}]", highlight=False)

    def note(self, text: str) -> None:
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False)
        else:
            self.console.print(text, markup=False, highlight=False)

    # -- waits ------------------------------------------------------------------------------------

    def wait(self, event: Any) -> None:
        """Take one poll's WaitEvent: print a line when the state changed; keep the live line fresh."""
        subject = getattr(event, "subject", None)
        if event.what != self.what:
            self._stop_live()
            self.what, self.subject = event.what, subject
            self.wait_started = self.clock() - float(event.elapsed)
        self.status = event.status
        changed = self._printed.get(event.what) != event.status or event.done
        if changed:
            self._printed[event.what] = event.status
            mark = " done" if event.done else ""
            self.note(f"  {event.elapsed:6.1f}s {event.what}: {event.status}{mark}")
            hint = STATUS_HINTS.get(event.status)
            if hint and not event.done and event.status not in self._hinted:
                self._hinted.add(event.status)
                self.note(f"          ({hint})")
        if event.done:
            self._stop_live()
            self.what = ""
        elif self.live_mode and self._live is None:
            from rich.live import Live

            self._live = Live(_LiveView(self), console=self.console, refresh_per_second=4, transient=True)
            self._live.start()

    def current_tail(self) -> list[str]:
        """The last lines of the waited-on workload's log (read at most twice a second)."""
        if not self.log_tail or not self.subject:
            return []
        now = self.clock()
        if now - self._tail_cache[0] >= 0.5:
            text = self.log_tail(self.subject, LOG_LINES) or ""
            self._tail_cache = (now, [row for row in text.splitlines() if row.strip()][-LOG_LINES:])
        return self._tail_cache[1]

    # -- end --------------------------------------------------------------------------------------

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            self._tail_cache = (0.0, [])

    def close(self) -> None:
        self._stop_live()


__all__ = ["STATUS_HINTS", "Progress", "live_wanted"]
