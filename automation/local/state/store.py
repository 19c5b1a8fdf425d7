"""The workspace's own objects in SQLite: one small schema, writes serialized by a lock.

Objects (projects, jobs, job runs, models, builds, deployments) are JSON documents keyed by kind
and id, with a parent id for listing and an insertion sequence for stable ordering. ``id_map``
ties the 4x4 public ids the API shows to MLflow's own ids (experiments, runs, registered models
and versions), so the ids stay the same across server restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automation.local.core.ids import new_public_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    doc TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE INDEX IF NOT EXISTS objects_parent ON objects (kind, parent);
CREATE TABLE IF NOT EXISTS id_map (
    kind TEXT NOT NULL,
    public_id TEXT NOT NULL,
    internal_id TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (kind, public_id),
    UNIQUE (kind, internal_id)
);
"""

Doc = dict[str, Any]


class Store:
    """Thread-safe access to ``workspace.db`` (one connection, one lock: the workspace is small)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    @property
    def lock(self) -> Any:
        """Hold it to make a check-then-write sequence atomic (e.g. a uniqueness check and an insert)."""
        return self._lock

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- objects ---------------------------------------------------------------------------

    def insert(self, kind: str, ident: str, doc: Doc, parent: str = "") -> Doc:
        with self._lock:
            self._conn.execute(
                "INSERT INTO objects (kind, id, parent, doc) VALUES (?, ?, ?, ?)",
                (kind, ident, parent, json.dumps(doc)),
            )
        return doc

    def get(self, kind: str, ident: str) -> Doc | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM objects WHERE kind = ? AND id = ?", (kind, ident)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def update(self, kind: str, ident: str, changes: Doc | Callable[[Doc], Doc | None]) -> Doc | None:
        """Merge ``changes`` (or apply a function) into one document atomically; ``None`` if it is gone."""
        with self._lock:
            doc = self.get(kind, ident)
            if doc is None:
                return None
            if callable(changes):
                result = changes(doc)
                doc = result if result is not None else doc
            else:
                doc.update(changes)
            self._conn.execute(
                "UPDATE objects SET doc = ? WHERE kind = ? AND id = ?", (json.dumps(doc), kind, ident)
            )
            return doc

    def list(self, kind: str, parent: str | None = None) -> list[Doc]:
        """All documents of a kind (optionally under one parent) in creation order."""
        with self._lock:
            if parent is None:
                rows = self._conn.execute("SELECT doc FROM objects WHERE kind = ? ORDER BY seq", (kind,))
            else:
                rows = self._conn.execute(
                    "SELECT doc FROM objects WHERE kind = ? AND parent = ? ORDER BY seq", (kind, parent)
                )
            return [json.loads(r[0]) for r in rows.fetchall()]

    def delete(self, kind: str, ident: str) -> bool:
        with self._lock:
            cur = self._conn.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, ident))
            return cur.rowcount > 0

    # --- public id <-> internal id ---------------------------------------------------------

    def public_id(self, kind: str, internal_id: str, meta: Doc | None = None) -> str:
        """The public id of an internal (MLflow) id, minted on first sight and kept from then on."""
        with self._lock:
            row = self._conn.execute(
                "SELECT public_id FROM id_map WHERE kind = ? AND internal_id = ?", (kind, internal_id)
            ).fetchone()
            if row:
                return str(row[0])
            while True:
                candidate = new_public_id()
                try:
                    self._conn.execute(
                        "INSERT INTO id_map (kind, public_id, internal_id, meta) VALUES (?, ?, ?, ?)",
                        (kind, candidate, internal_id, json.dumps(meta or {})),
                    )
                    return candidate
                except sqlite3.IntegrityError:  # a public id collision: draw again
                    continue

    def internal_id(self, kind: str, public_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT internal_id FROM id_map WHERE kind = ? AND public_id = ?", (kind, public_id)
            ).fetchone()
        return str(row[0]) if row else None

    def id_meta(self, kind: str, public_id: str) -> Doc:
        with self._lock:
            row = self._conn.execute(
                "SELECT meta FROM id_map WHERE kind = ? AND public_id = ?", (kind, public_id)
            ).fetchone()
        return json.loads(row[0]) if row else {}

    def set_id_meta(self, kind: str, public_id: str, meta: Doc) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE id_map SET meta = ? WHERE kind = ? AND public_id = ?",
                (json.dumps(meta), kind, public_id),
            )

    def forget_id(self, kind: str, *, internal_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM id_map WHERE kind = ? AND internal_id = ?", (kind, internal_id))
