"""Refusals paced under a flood, so refusing costs the machine (almost) nothing.

A refusal that leaves the body unread (413 on a declared length, 404 unknown access key, 401, 429 of
the large lane) closes the connection, and an attacker's client reconnects and sends the next body
at once: answered as fast as possible, a handful of connections keep the server's event loop and,
on a 2-core machine, most of the CPU busy (the attacker's own load generator included), and every
legitimate call waits for a core. The pacer is a token bucket shared by all these refusals:
``rate`` of them a second (and a burst of as many) are answered at once, as before; beyond that,
each waits for its turn, its connection held with its body unread and no longer read at all (the
server stops reading the socket, its buffers fill and the sender blocks, so neither side spends CPU
and the server holds no body bytes), and is then answered and closed. At most ``held`` refusals
wait at a time; any further one is answered at once, so the number of held connections stays
bounded. A
legitimate client that makes a mistake now and then is never slowed; one that keeps guessing keys
is slowed to ``rate`` guesses a second in total.

The clock is injectable: ``reserve`` is plain arithmetic and tested without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# The ASGI scope extension under which the server's protocol (protocol.py) offers a callable that
# stops reading the request's connection.
PAUSE_READING = "cmlops.pause_reading"


class RefusalPacer:
    """A token bucket of ``rate`` refusals a second (burst ``rate``), at most ``held`` waiting."""

    def __init__(self, rate: float, held: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, rate)
        self.held = held
        self.waiting = 0
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()

    def reserve(self) -> float:
        """Seconds the next refusal waits before it is answered (0: at once), its turn taken."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        if self.waiting >= self.held:
            return 0.0  # full: answered at once, no turn taken
        self._tokens -= 1.0  # a debt: the turns queue up behind each other
        return -self._tokens / self.rate

    async def turn(self, pause_reading: Callable[[], None] | None = None) -> None:
        """Wait for this refusal's turn (see the module docstring); when it has to wait, stop
        reading its connection first (``pause_reading``, if the server offers one)."""
        delay = self.reserve()
        if delay <= 0.0:
            return
        if pause_reading is not None:
            pause_reading()
        self.waiting += 1
        try:
            await asyncio.sleep(delay)
        finally:
            self.waiting -= 1
