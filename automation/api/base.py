"""Shared machinery for the resource modules: paging, exact-name lookups, waiting."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from automation.clock import Clock, SystemClock
from automation.errors import ApiError, TransportError, WaitTimeout, WorkloadFailed
from automation.http import HttpClient

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 100


class Resource:
    """Base of every resource family; holds the HTTP client and the clock."""

    def __init__(
        self, http: HttpClient, clock: Clock | None = None, poll: tuple[float, float] = (2.0, 15.0)
    ) -> None:
        self.http = http
        self.clock = clock or http.clock or SystemClock()
        self.poll = poll  # waiters: first poll interval and its cap (seconds)

    def _pages(
        self,
        path: str,
        key: str,
        params: dict[str, Any] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield items across pages; page_size is re-sent with every page_token (CML requires it)."""
        query = dict(params or {})
        query["page_size"] = page_size
        seen_tokens: set[str] = set()
        count = 0
        while True:
            body = self.http.request("GET", path, params=query) or {}
            for item in body.get(key) or []:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            token = body.get("next_page_token") or ""
            if not token or token in seen_tokens:
                return
            seen_tokens.add(token)
            query["page_token"] = token


def update_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a PATCH: the resource message itself (``Project``, ``Job``, ``Application``).

    In those messages ``environment`` is a JSON-encoded string (CML answers 400 to an object) and
    ``timeout`` is an int64, which travels as a string; create requests keep the map.
    """
    body = dict(fields)
    env = body.get("environment")
    if env is not None and not isinstance(env, str):
        body["environment"] = json.dumps({str(k): str(v) for k, v in dict(env).items()}, sort_keys=True)
    if body.get("timeout") is not None and not isinstance(body["timeout"], str):
        body["timeout"] = str(int(body["timeout"]))
    return body


def exact(items: Iterator[T], name: str, attr: str = "name") -> T | None:
    """search_filter matches substrings: re-check the exact name client-side."""
    matches = [item for item in items if getattr(item, attr, None) == name]
    return matches[0] if matches else None


@dataclass
class WaitEvent:
    """What a waiter reports on each poll (rendered by the CLI, recorded by tests)."""

    what: str
    status: str
    elapsed: float
    done: bool = False
    subject: str | None = None  # the workload's id when it keeps a log (job run, build, deployment)


StatusOf = Callable[[Any], str]


def wait_for(
    fetch: Callable[[], T],
    *,
    what: str,
    status_of: Callable[[T], str],
    success: set[str],
    failure: set[str],
    timeout: float,
    clock: Clock,
    failure_error: type[WorkloadFailed] = WorkloadFailed,
    failure_hint: str | Callable[[T], str] | None = None,
    timeout_hint: str | None = None,
    on_progress: Callable[[WaitEvent], None] | None = None,
    subject: str | None = None,
    interval: float = 2.0,
    max_interval: float = 15.0,
    backoff: float = 1.5,
    fold_case: bool = False,
    outage_limit: float | None = None,
) -> T:
    """Poll ``fetch`` until its status is in ``success`` (returned) or ``failure`` (raised).

    With ``fold_case`` the status is compared case-insensitively (the sets hold lowercase words)
    and reported as the server spelled it. Unknown statuses keep the wait going. Transient API
    errors during a poll are tolerated until the timeout. A workspace that does not answer at all
    (each poll already retried by the HTTP layer) is reported on every poll and given up on after
    ``outage_limit`` seconds (default: four times ``max_interval``, at least 15 s) with the cause,
    instead of silently until the wait's own timeout. The poll interval starts at ``interval`` and
    backs off to ``max_interval``.
    """
    start = clock.now()
    delay = interval
    last_status = "<none>"
    limit = outage_limit if outage_limit is not None else max(15.0, 4 * max_interval)
    down_since: float | None = None
    while True:
        try:
            obj = fetch()
            down_since = None
        except ApiError as exc:
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                raise
            obj = None
        except TransportError as exc:
            obj = None
            down_since = _outage(exc, what, start, down_since, limit, clock, on_progress)
        if obj is not None:
            last_status = status_of(obj) or "<empty>"
            key = last_status.casefold() if fold_case else last_status
            elapsed = clock.now() - start
            if key in success:
                if on_progress:
                    on_progress(WaitEvent(what, last_status, elapsed, done=True, subject=subject))
                return obj
            if key in failure:
                if on_progress:
                    on_progress(WaitEvent(what, last_status, elapsed, done=True, subject=subject))
                hint = failure_hint(obj) if callable(failure_hint) else failure_hint
                raise failure_error(
                    f"{what} ended with status {last_status!r}", status=last_status, hint=hint
                )
            if on_progress:
                on_progress(WaitEvent(what, last_status, elapsed, subject=subject))
        elapsed = clock.now() - start
        if elapsed >= timeout:
            raise WaitTimeout(
                f"timed out after {timeout:.0f}s waiting for {what}; last status {last_status!r}",
                last_status=last_status,
                hint=timeout_hint,
            )
        clock.sleep(min(delay, max(0.0, timeout - elapsed)))
        delay = min(max_interval, delay * backoff)


def _outage(
    exc: TransportError,
    what: str,
    start: float,
    down_since: float | None,
    limit: float,
    clock: Clock,
    on_progress: Callable[[WaitEvent], None] | None,
) -> float:
    """Report a poll that got no answer; raise once the workspace has been silent for ``limit``."""
    now = clock.now()
    since = now if down_since is None else down_since
    if on_progress:
        on_progress(WaitEvent(what, f"workspace not answering: {exc.message}", now - start))
    if now - since >= limit:
        raise TransportError(
            f"the workspace stopped answering while waiting for {what}: {exc.message}; gave up after "
            f"{now - since:.0f} s without an answer instead of waiting out the step's timeout",
            hint="for the local workspace see `cmlops local status` and `cmlops local logs server`; once "
            "the workspace is back, re-run the same command: it continues where it stopped",
        ) from None
    return since
