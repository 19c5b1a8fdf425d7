"""Find a model call's access key without parsing its body.

CML's model call is ``{"accessKey": K, "request": {...}}``, and clients (cmlops, curl examples,
the tutorial) put ``accessKey`` first. When it is the body's first member, its value is read from
the first bytes with one anchored regular expression, so a 5 MB batch is routed (or refused) after
its first chunk and never parsed by the front. Any other shape is left to a full JSON parse of the
(size-limited) body, with the same errors as before.
"""

from __future__ import annotations

import json
import re
from typing import Any

# The first member of the top-level object is "accessKey" with a string value. Anchored at the start
# (after optional whitespace), so a key nested inside "request" can never match.
_LEADING = re.compile(rb'\s*\{\s*"accessKey"\s*:\s*"((?:[^"\\]|\\.){0,1024})"')
# The first member's name, once complete: if it is not "accessKey", the key is not first.
_FIRST_NAME = re.compile(rb'\s*\{\s*"((?:[^"\\]|\\.){0,64})"\s*:')
# Not an object at all (a list, a number, junk): decided at the first byte.
_NOT_OBJECT = re.compile(rb"\s*[^\s{]")
# Enough bytes to decide: a key longer than this is not a real access key.
DECIDE_BYTES = 2048


class NeedMore:
    """Marker: the prefix is too short to decide."""


NEED_MORE = NeedMore()


def leading_key(prefix: bytes, complete: bool) -> str | NeedMore | None:
    """The access key if it is the body's first member; None if it is not; NEED_MORE if undecided.

    ``complete`` says whether ``prefix`` is the whole body.
    """
    match = _LEADING.match(prefix)
    if match is not None:
        raw = match.group(1)
        if b"\\" not in raw:
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return None
        try:
            value = json.loads(b'"' + raw + b'"')
        except ValueError:
            return None
        return value if isinstance(value, str) else None
    if complete or len(prefix) >= DECIDE_BYTES:
        return None
    first = _FIRST_NAME.match(prefix)
    if (first is not None and first.group(1) != b"accessKey") or _NOT_OBJECT.match(prefix):
        return None  # decided early: another member comes first, or the body is no object
    return NEED_MORE


def parsed_key(body: bytes) -> tuple[str | None, str]:
    """(access key, "") from a whole body parsed as JSON, or (None, reason) naming the problem."""
    try:
        parsed: Any = json.loads(body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        return None, "json"
    key = parsed.get("accessKey") if isinstance(parsed, dict) else None
    if not isinstance(key, str) or not key:
        return None, "missing"
    return key, ""
