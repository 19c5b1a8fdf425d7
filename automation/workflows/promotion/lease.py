"""The promotion lease: one promote or rollback of a PRD model at a time, on CML as locally.

API v2 has no lock and no compare-and-set, and UpdateRegisteredModel writes only ``description``,
``visibility`` and ``user_id`` (registered models have no tags). So the lease is one marked line at
the end of the registered model's description, where every client of the workspace sees it (the
registry page shows it too): ``cmlops-promotion-lease: {"owner": ..., "expires": ...}``. The text
before it is the user's and is kept.

Taking it: read; when another owner holds it and it has not expired, wait (``--wait``) or refuse
(:class:`PromotionBusy`, exit 13); else write our line, wait ``settle`` seconds and read it back:
only when our line is still there do we hold it (two racing writers both read the last write, so
at most one sees itself). The holder renews it before each step and while waiting on builds and
deployments; a holder that stopped renewing loses it at ``expires``. A lease whose owner is a
process of this machine that no longer exists is taken over at once (a killed ``cmlops promote``
is finished by the next run without waiting for the expiry). Without a registered model (nothing
was ever registered) there is nothing to hold it on, and the promotion runs without it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from automation.api import CMLClient
from automation.clock import Clock, SystemClock
from automation.errors import ApiError, PromotionBusy

MARK = "cmlops-promotion-lease: "
TTL = 120.0  # seconds a lease lasts without renewal
SETTLE = 1.0  # seconds between writing the lease and reading it back
POLL = 2.0  # seconds between looks while waiting for another holder
WRITE_HINT = (
    "promote and rollback keep one line in the registered model's description (the promotion lease); "
    "the API key needs the right to edit that registered model"
)


@dataclass(frozen=True)
class LeaseRecord:
    owner: str
    host: str
    pid: int
    action: str
    target: str
    since: str
    expires: float  # seconds since the epoch (UTC)
    version: int | None = None  # the version being put into PRD (finishing an interrupted run)

    def text(self) -> str:
        return MARK + json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    def describe(self) -> str:
        until = datetime.fromtimestamp(self.expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"a {self.action} of {self.target} by {self.owner} (since {self.since}, lease until {until})"


def split(description: str) -> tuple[str, LeaseRecord | None]:
    """The user's description and the lease line at its end (None when there is none or it is garbled)."""
    text = description or ""
    at = text.rfind(MARK)
    if at < 0 or (at > 0 and text[at - 1] != "\n"):
        return text, None
    try:
        data = json.loads(text[at + len(MARK) :].strip())
        record = LeaseRecord(**{k: data[k] for k in LeaseRecord.__dataclass_fields__ if k in data})
    except (ValueError, TypeError, KeyError):
        return text, None
    return text[:at].rstrip("\n"), record


def join(text: str, record: LeaseRecord | None) -> str:
    if record is None:
        return text
    return f"{text}\n{record.text()}" if text else record.text()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone(record: LeaseRecord, host: str | None = None, now: float | None = None) -> bool:
    """Its holder stopped: the lease expired, or its process on this machine no longer exists."""
    host = socket.gethostname() if host is None else host
    now = time.time() if now is None else now
    return now >= record.expires or (record.host == host and not _pid_alive(record.pid))


def interrupted(description: str) -> LeaseRecord | None:
    """The lease line a promote/rollback left when it was killed (its holder is gone), if any."""
    record = split(description)[1]
    return record if record is not None and gone(record) else None


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Lease:
    """The lease on one registered model, held by this process while it promotes or rolls back."""

    def __init__(
        self,
        client: CMLClient,
        model_id: str,
        *,
        action: str,
        target: str,
        version: int | None = None,
        ttl: float = TTL,
        settle: float = SETTLE,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.client, self.model_id = client, model_id
        self.action, self.target, self.version = action, target, version
        self.ttl, self.settle = ttl, settle
        self.clock = clock or SystemClock()
        self.wall = wall
        self.host = socket.gethostname()
        self.owner = f"{os.environ.get('USER') or 'cmlops'}@{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.taken_over: LeaseRecord | None = None  # an expired or orphaned lease this one replaced
        self._since = _now_iso()
        self._renewed = 0.0
        self.held = False

    def _read(self) -> tuple[str, LeaseRecord | None]:
        return split(self.client.registry.get(self.model_id).description)

    def _write(self, text: str, record: LeaseRecord | None) -> None:
        try:
            self.client.registry.update(self.model_id, description=join(text, record))
        except ApiError as exc:
            exc.hint = f"{WRITE_HINT} ({exc.hint})" if exc.hint else WRITE_HINT
            raise

    def _record(self) -> LeaseRecord:
        return LeaseRecord(
            self.owner,
            self.host,
            os.getpid(),
            self.action,
            self.target,
            self._since,
            self.wall() + self.ttl,
            self.version,
        )

    def _gone(self, record: LeaseRecord) -> bool:
        return gone(record, self.host, self.wall())

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lease, waiting up to ``wait`` seconds for another holder; PromotionBusy if not."""
        deadline = self.clock.now() + max(0.0, wait)
        while True:
            text, held = self._read()
            if held is not None and held.owner != self.owner and not self._gone(held):
                left = deadline - self.clock.now()
                if left <= 0:
                    raise PromotionBusy(
                        f"another promotion of this model is in progress: {held.describe()}; nothing was changed",
                        hint="re-run when it has finished (a re-run also finishes an interrupted one), "
                        "or pass --wait SECONDS to wait for it",
                    )
                self.clock.sleep(min(POLL, left))
                continue
            replaced = held if held is not None and held.owner != self.owner else None
            self._write(text, self._record())
            self.clock.sleep(self.settle)
            _, now_held = self._read()
            if now_held is not None and now_held.owner == self.owner:
                self.taken_over, self.held, self._renewed = replaced, True, self.clock.now()
                return

    def renew(self) -> None:
        """Push the expiry on; PromotionBusy when another process took the lease meanwhile."""
        text, held = self._read()
        if held is None or held.owner != self.owner:
            self.held = False
            who = held.describe() if held else "nobody (the lease line was removed)"
            raise PromotionBusy(
                f"lost the promotion lease: it is now held by {who}",
                hint=f"a step took longer than the lease ({self.ttl:.0f} s) without renewal; re-run to finish",
            )
        self._write(text, self._record())
        self._renewed = self.clock.now()

    def renew_if_due(self) -> None:
        if self.held and self.clock.now() - self._renewed >= self.ttl / 3:
            self.renew()

    def release(self) -> None:
        """Remove our line (best effort: an expired lease is harmless)."""
        if not self.held:
            return
        self.held = False
        try:
            text, held = self._read()
            if held is not None and held.owner == self.owner:
                self._write(text, None)
        except Exception:  # never hide the promotion's own outcome behind a release failure
            pass
