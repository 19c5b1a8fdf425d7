"""Non-idempotent creates whose answer was lost: look before sending them again.

A POST that creates is never retried blindly by the HTTP core. When its answer is a 500/502/504,
a timeout or a dropped connection after the request reached the server, the error carries
``maybe_applied=True``: the resource may exist (a live workbench has answered
``create_model_deployment`` with a 500 after 30 s while the deployment came up). ``create_once``
then looks the resource up by name or parent: found, it is the one this call made; not found, the
create did not happen and is sent once more. Any other error is raised unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from automation.errors import ApiError, TransportError

T = TypeVar("T")


def maybe_applied(exc: BaseException) -> bool:
    """Did a create fail in a way that leaves open whether the server acted?"""
    return isinstance(exc, ApiError | TransportError) and bool(getattr(exc, "maybe_applied", False))


def create_once(create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """``create()``; after a maybe-applied failure, ``find()`` first, and only then create again."""
    try:
        return create()
    except (ApiError, TransportError) as exc:
        if not maybe_applied(exc):
            raise
        found = find()
        if found is not None:
            return found
        return create()
