"""Cursor: every item of a paged ``list_*`` call, following ``next_page_token`` until it is empty."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class Cursor:
    """``Cursor(client.list_jobs, project_id=pid, search_filter=...).items()`` yields each job of every
    page. The keyword arguments (``page_size`` included) are sent again with each page token."""

    def __init__(self, list_method: Callable[..., Any], **kwargs: Any) -> None:
        self.list_method = list_method
        self.kwargs = kwargs

    def pages(self) -> Iterator[Any]:
        token = self.kwargs.pop("page_token", None)
        seen: set[str] = set()
        while True:
            page = self.list_method(**self.kwargs, **({"page_token": token} if token else {}))
            yield page
            token = getattr(page, "next_page_token", None)
            if not token or token in seen:
                return
            seen.add(token)

    def items(self) -> Iterator[Any]:
        for page in self.pages():
            yield from _listed(page)


def _listed(page: Any) -> list[Any]:
    """The one list field of a list response (``projects``, ``job_runs``, ``files``...)."""
    fields = [name for name, kind in getattr(page, "swagger_types", {}).items() if kind.startswith("list[")]
    if len(fields) != 1:
        raise TypeError(f"Cursor needs a list_* method; {type(page).__name__} has list fields {fields}")
    return getattr(page, fields[0]) or []
