"""Running one named step: timed, recorded in the report, announced to the caller."""

from __future__ import annotations

import time
from collections.abc import Callable

from automation.errors import CmlopsError
from automation.workflows.promotion.report import PromotionReport, Step

StepCallback = Callable[[str, str, str], None]  # (step, "start" | "ok" | "failed" | "skipped", detail)


class StepRunner:
    def __init__(
        self, report: PromotionReport, on_step: StepCallback | None, before: Callable[[], None] | None = None
    ) -> None:
        self.report, self.on_step, self.before = report, on_step, before
        self.current = ""  # the step running now (named in the report when it fails)

    def _say(self, name: str, phase: str, detail: str) -> None:
        if self.on_step:
            self.on_step(name, phase, detail)

    def run(self, name: str, fn: Callable[[], str]) -> None:
        """Run one step, timing it and recording ok/failed in the report; failures propagate."""
        started = time.monotonic()
        self.current = name
        try:
            self._say(name, "start", "")
            if self.before:
                self.before()  # renews the lease: a lost lease stops before the step acts
            detail = fn()
        except Exception as exc:
            message = exc.message if isinstance(exc, CmlopsError) else f"{type(exc).__name__}: {exc}"
            self.report.steps.append(Step(name, "failed", _secs(started), message))
            self._say(name, "failed", message)
            raise
        self.report.steps.append(Step(name, "ok", _secs(started), detail))
        self._say(name, "ok", detail)

    def attempt(self, name: str, fn: Callable[[], str]) -> bool:
        """A best-effort step (putting PRD back, bookkeeping after a failure): recorded, never raised."""
        try:
            self.run(name, fn)
        except Exception:  # recorded in the report by run()
            return False
        return True

    def skip(self, name: str, detail: str) -> None:
        self.report.steps.append(Step(name, "skipped", detail=detail))


def _secs(started: float) -> float:
    return round(time.monotonic() - started, 3)
