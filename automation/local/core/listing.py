"""List queries as API v2 takes them: search_filter, sort, page_size, page_token (and camelCase twins).

``search_filter`` is a JSON object; each key must be one the swagger documents for that list,
values match as case-sensitive substrings and keys are AND-ed (as CML does, so ``{"name": "DS"}``
finds ``DSE`` and ``{"name": "dse"}`` finds nothing). ``sort`` is ``key,-key,+key``. Page tokens
are opaque (base64 of an offset); the page size must be re-sent with each token, as in CML.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from automation.local.core.problems import bad_request
from automation.local.core.shapes import dig, short_user

DEFAULT_PAGE_SIZE = 10
T = TypeVar("T")
Accessor = Callable[[Any, str], Any]


@dataclass(frozen=True)
class ListQuery:
    search_filter: dict[str, Any]
    sort: list[tuple[str, bool]]  # (key, descending)
    page_size: int
    offset: int


def _param(params: Mapping[str, str], snake: str, camel: str) -> str | None:
    value = params.get(snake)
    return params.get(camel) if value is None else value


def _allowed(key: str, keys: Iterable[str], prefixes: Iterable[str]) -> bool:
    return key in set(keys) or any(key.startswith(p) and len(key) > len(p) for p in prefixes)


def parse_list_query(
    params: Mapping[str, str],
    *,
    filter_keys: Iterable[str] = (),
    sort_keys: Iterable[str] = (),
    filter_prefixes: Iterable[str] = (),
    sort_prefixes: Iterable[str] = (),
    default_sort: str = "",
) -> ListQuery:
    """Read and validate the list parameters; any mistake is a 400 that names the parameter."""
    filter_keys, sort_keys = sorted(filter_keys), sorted(sort_keys)
    raw_filter = _param(params, "search_filter", "searchFilter")
    search: dict[str, Any] = {}
    if raw_filter not in (None, ""):
        try:
            search = json.loads(raw_filter)
        except ValueError as exc:
            raise bad_request(
                f'search_filter is not valid JSON ({exc}); send an object like {{"name": "x"}}'
            ) from None
        if not isinstance(search, dict):
            raise bad_request('search_filter must be a JSON object like {"name": "x"}')
        for key in search:
            if not _allowed(key, filter_keys, filter_prefixes):
                supported = ", ".join(filter_keys + [p + "<key>" for p in filter_prefixes]) or "none"
                raise bad_request(
                    f"search_filter key {key!r} is not supported here; supported keys: {supported}"
                )

    raw_sort = params.get("sort") or default_sort
    sort: list[tuple[str, bool]] = []
    for part in (p.strip() for p in raw_sort.split(",")):
        if not part:
            continue
        descending = part.startswith("-")
        key = part.lstrip("+-").strip()
        if not _allowed(key, sort_keys, sort_prefixes):
            supported = ", ".join(sort_keys + [p + "<key>" for p in sort_prefixes]) or "none"
            raise bad_request(f"sort key {key!r} is not supported here; supported keys: {supported}")
        sort.append((key, descending))

    raw_size = _param(params, "page_size", "pageSize")
    page_size = DEFAULT_PAGE_SIZE
    if raw_size not in (None, ""):
        try:
            page_size = int(raw_size)
        except ValueError:
            raise bad_request(f"page_size must be an integer, got {raw_size!r}") from None
        if page_size <= 0:
            page_size = DEFAULT_PAGE_SIZE

    token = _param(params, "page_token", "pageToken") or ""
    return ListQuery(search, sort, page_size, decode_token(token) if token else 0)


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        tag, _, number = raw.partition(":")
        offset = int(number)
        if tag != "o" or offset < 0:
            raise ValueError(raw)
        return offset
    except ValueError:
        raise bad_request(
            "page_token is not valid; pass the next_page_token of the previous answer"
        ) from None


def as_text(value: Any) -> str:
    """How a field reads for substring matching (booleans as true/false, as CML's ``"f"`` example needs)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches(item: Any, search: Mapping[str, Any], accessor: Accessor) -> bool:
    return all(as_text(want) in as_text(accessor(item, key)) for key, want in search.items())


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value))


def apply(items: list[T], query: ListQuery, accessor: Accessor) -> tuple[list[T], str]:
    """Filter, sort and cut one page; returns the page and the next page token (``""`` at the end)."""
    selected = [item for item in items if matches(item, query.search_filter, accessor)]
    for key, descending in reversed(query.sort):
        selected.sort(key=lambda item, k=key: _sort_value(accessor(item, k)), reverse=descending)
    page = selected[query.offset : query.offset + query.page_size]
    end = query.offset + len(page)
    return page, (encode_token(end) if end < len(selected) else "")


def envelope(key: str, page: list[Any], next_token: str) -> dict[str, Any]:
    return {key: page, "next_page_token": next_token}


def read_field(item: Any, key: str) -> Any:
    """``key`` of a record (attribute) or a document (mapping), dotted keys going into maps."""
    head, _, rest = key.partition(".")
    value = item.get(head) if isinstance(item, Mapping) else getattr(item, head, None)
    return dig(value, rest) if rest else value


@dataclass(frozen=True)
class ListSpec:
    """One list endpoint: its envelope key, the keys it filters and sorts on, how keys read.

    ``computed`` maps a key to how it reads from an item when it is not simply the item's field
    (e.g. a status word); keys under ``user_prefixes`` (``creator.``, ``owner.``) read the local user.
    """

    key: str
    filter_keys: tuple[str, ...] = ()
    sort_keys: tuple[str, ...] = ()
    computed: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    user_prefixes: tuple[str, ...] = ("creator.",)

    def field(self, item: Any, key: str) -> Any:
        if key in self.computed:
            return self.computed[key](item)
        if key.startswith(self.user_prefixes):
            return short_user().get(key.split(".", 1)[1])
        return read_field(item, key)

    def page(self, params: Mapping[str, str], items: list[T], render: Callable[[T], Any]) -> dict[str, Any]:
        """Filter, sort and page ``items`` as ``params`` ask; the envelope with the rendered page."""
        query = parse_list_query(params, filter_keys=self.filter_keys, sort_keys=self.sort_keys)
        page, token = apply(items, query, self.field)
        return envelope(self.key, [render(item) for item in page], token)
