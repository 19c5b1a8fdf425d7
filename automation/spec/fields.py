"""Reusable field types of the spec and the base model every section derives from.

Validators never echo the value they refuse: it may have come from a ``${env:...}`` secret.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
)

from automation.spec.paths import check_relative_path

MASK = "**********"

# --- reusable field types ----------------------------------------------------------------------------

_SPEC_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_TARGET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _check_name(value: str) -> str:
    if not value:
        raise ValueError("the name is empty")
    if len(value) > 64:
        raise ValueError(f"the name is {len(value)} characters long; at most 64 are allowed")
    if value != value.strip():
        raise ValueError("the name starts or ends with whitespace")
    if _CONTROL.search(value):
        raise ValueError("the name contains a control character")
    return value


_REGISTRY_REFUSES = re.compile(r"[/:'`\"\\]")


def _check_registered_name(value: str) -> str:
    """What the model registry (MLflow's, behind CML's) refuses, caught before anything is written."""
    _check_name(value)
    bad = _REGISTRY_REFUSES.search(value)
    if bad:
        raise ValueError(
            f"the model registry refuses {bad.group()!r} in a name (no '/', ':', quotes, backticks or "
            "backslashes); use e.g. '-' instead"
        )
    if value == "." or value.startswith(".."):
        raise ValueError("the model registry refuses a name that is '.' or starts with '..'")
    return value


def _check_spec_name(value: str) -> str:
    _check_name(value)
    if not _SPEC_NAME.fullmatch(value):
        raise ValueError("use lowercase letters, digits and '-' (not at the start or end)")
    return value


def _check_target_name(value: str) -> str:
    if not _TARGET_NAME.fullmatch(value) or len(value) > 32:
        raise ValueError("target names are lowercase letters, digits, '-' and '_' (at most 32)")
    return value


def _check_env_key(value: str) -> str:
    if not _ENV_KEY.fullmatch(value):
        raise ValueError("environment variable names are letters, digits and '_', not starting with a digit")
    return value


def _coerce_env_value(value: Any) -> Any:
    """YAML reads ``ALPHA: 0.5`` as a float; environment values are strings, so numbers become text."""
    if isinstance(value, bool):
        raise ValueError("true/false is ambiguous for an environment variable; quote it ('true')")
    if value is None:
        raise ValueError("no value; write '' for an empty value")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("environment values cannot contain a NUL character")
    return str(value) if isinstance(value, int | float) else value


def empty_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def rel_path(what: str, allow_glob: bool = False) -> AfterValidator:
    return AfterValidator(lambda v: check_relative_path(v, what=what, allow_glob=allow_glob))


Name = Annotated[str, AfterValidator(_check_name)]
RegisteredName = Annotated[str, AfterValidator(_check_registered_name)]
SpecName = Annotated[str, AfterValidator(_check_spec_name)]
TargetName = Annotated[str, AfterValidator(_check_target_name)]
EnvKey = Annotated[str, AfterValidator(_check_env_key)]
EnvValue = Annotated[str, BeforeValidator(_coerce_env_value)]
Environment = Annotated[
    dict[EnvKey, EnvValue],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": _ENV_KEY.pattern},
            "additionalProperties": {"type": ["string", "number"]},
        }
    ),
]
Cpu = Annotated[float, Field(gt=0, le=128)]
MemoryGb = Annotated[float, Field(gt=0, le=1024)]
Gpus = Annotated[int, Field(ge=0, le=64)]
Seconds = Annotated[int, Field(gt=0, le=7 * 24 * 3600)]
MetricName = Annotated[str, AfterValidator(_check_name)]

# --- base ---------------------------------------------------------------------------------------------


class SpecModel(BaseModel):
    """Base of every spec section: unknown keys are errors, no NaN/inf, secrets masked in repr."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, protected_namespaces=(), frozen=True)

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with equal fields; private attributes (file positions, masks)
        do not count, so a v1 file and its migrated v2 file load to equal specs."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    # field name -> None (mask the whole value) or the dict keys to mask; set by the loader.
    _masked: dict[str, set[str] | None] = PrivateAttr(default_factory=dict)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name is None or name not in self._masked:
                yield name, value
                continue
            keys = self._masked[name]
            if value is None:
                yield name, value
            elif keys is not None and isinstance(value, dict):
                yield name, {k: (MASK if k in keys else v) for k, v in value.items()}
            else:
                yield name, MASK


Replicas = Annotated[int, Field(ge=1, le=9)]
