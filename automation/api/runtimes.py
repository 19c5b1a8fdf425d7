"""Runtimes: list with filters and pick the newest match."""

from __future__ import annotations

import re
from collections.abc import Iterator

from automation.api.base import Resource
from automation.api.types import Runtime, RuntimeAddon
from automation.errors import InputError

ADDON_AVAILABLE = "AVAILABLE"


def _version_key(full_version: str) -> tuple:
    """Numbers compare as numbers, also inside chunks: build ``b12`` is newer than ``b9``."""
    parts = []
    for token in re.findall(r"\d+|[^\d.\-]+", full_version):
        parts.append((0, int(token), "") if token.isdigit() else (1, 0, token))
    return tuple(parts)


class Runtimes(Resource):
    def list(self, search_filter: dict[str, str] | None = None) -> Iterator[Runtime]:
        for item in self._pages("/api/v2/runtimes", "runtimes", {"search_filter": search_filter}):
            yield Runtime.model_validate(item)

    def pick(self, *, editor: str, kernel: str, edition: str) -> Runtime:
        """The newest ENABLED runtime whose editor/kernel/edition match exactly."""
        return self.matching(editor=editor, kernel=kernel, edition=edition)[0]

    def matching(self, *, editor: str, kernel: str, edition: str) -> list[Runtime]:
        """Every ENABLED runtime whose editor/kernel/edition match exactly, newest first."""
        wanted = {"editor": editor, "kernel": kernel, "edition": edition}
        candidates = [
            r
            for r in self.list(search_filter=wanted)
            if (r.editor, r.kernel, r.edition) == (editor, kernel, edition)
            and r.status.upper() not in ("DISABLED", "DEPRECATED")
        ]
        if not candidates:
            raise InputError(
                f"no enabled runtime matches editor={editor!r} kernel={kernel!r} edition={edition!r}",
                hint="list them with `cmlops runtimes`, or set runtime.identifier in the spec",
            )
        return sorted(candidates, key=lambda r: _version_key(r.full_version), reverse=True)

    def exists(self, identifier: str) -> bool:
        return any(
            r.image_identifier == identifier
            for r in self.list(search_filter={"image_identifier": identifier})
        )


class RuntimeAddons(Resource):
    """``GET /api/v2/runtimeaddons``: the Spark (and Hadoop CLI) add-ons a workload may attach."""

    def list(self, search_filter: dict[str, str] | None = None) -> Iterator[RuntimeAddon]:
        for item in self._pages("/api/v2/runtimeaddons", "runtime_addons", {"search_filter": search_filter}):
            yield RuntimeAddon.model_validate(item)

    def resolve(self, wanted: list[str]) -> list[str]:
        """The identifiers of the AVAILABLE add-ons ``wanted`` names (an identifier or a display name,
        exact, e.g. ``Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1``); one listing. An InputError names
        every add-on the workspace does not offer, with what it does offer."""
        if not wanted:
            return []
        catalogue = list(self.list())
        usable = [a for a in catalogue if a.status.upper() == ADDON_AVAILABLE]
        found: list[str] = []
        missing: list[str] = []
        for name in wanted:
            match = next((a for a in usable if name in (a.identifier, a.display_name)), None)
            if match is None:
                missing.append(name)
            elif match.identifier not in found:
                found.append(match.identifier)
        if missing:
            offered = ", ".join(f"{a.display_name or a.identifier} ({a.identifier})" for a in usable)
            raise InputError(
                f"runtime add-on(s) {', '.join(map(repr, missing))} not available in this workspace "
                f"(available: {offered or 'none'})",
                hint=(
                    "use an identifier or display name from the list above"
                    if usable
                    else "this workspace lists no runtime add-ons: Spark is not available locally (the "
                    "local workspace has none); run this against a CML workspace with the Spark add-on"
                ),
            )
        return found
