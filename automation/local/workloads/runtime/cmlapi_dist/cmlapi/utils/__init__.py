"""Helpers scripts use with the client: ``default_client()`` and ``Cursor`` over any ``list_*`` method."""

from .cursor import Cursor
from .default_client import default_client

__all__ = ["Cursor", "default_client"]
