"""The embedded local workspace: a loopback server that speaks the CML API v2 subset cmlops uses.

Import ``automation.local.control`` to start, stop and inspect it; it is stdlib-only so the CLI
stays fast. The server modules (``app``, ``api_*``, ``runner``, ...) import FastAPI and, lazily,
MLflow; only the server process imports them.
"""
