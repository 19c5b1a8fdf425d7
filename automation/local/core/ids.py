"""Identifier shapes CML uses: 4x4 public ids, UUIDs, 32-character model access keys."""

from __future__ import annotations

import secrets
import string
import uuid

_ALNUM = string.ascii_lowercase + string.digits


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def new_public_id() -> str:
    """``abcd-efgh-ijkl-mnop``: projects, jobs, job runs, experiments, runs, registry ids."""
    return "-".join(_random(4) for _ in range(4))


def new_uuid() -> str:
    """Models, builds and deployments are UUIDs (the UUID part of their CRN)."""
    return str(uuid.uuid4())


def new_access_key() -> str:
    """A model's access key: 32 lowercase alphanumerics. It identifies the model; it is not a secret."""
    return _random(32)


def new_engine_id() -> str:
    """``CDSW_ENGINE_ID`` of one job run."""
    return _random(16)


def crn(kind: str, ident: str) -> str:
    return f"crn:cdp:ml:local:local-user:workspace:local/{kind}/{ident}"
