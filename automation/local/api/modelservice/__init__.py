"""The model service front: ``POST /model`` on the workspace's port, ahead of the FastAPI API.

CML serves model endpoints at ``https://modelservice.<domain>/model``; the local workspace serves
them at ``<workspace>/model``. This package is that path: a lean ASGI callable (front.py) that the
uvicorn server calls before FastAPI's routing, an in-memory access-key -> deployment table
(routes.py), the limits it enforces before a body is read (limits.py, protocol.py), the access-key
scan of a body's first bytes (keyscan.py), and a pooled HTTP/1.1 pass-through to the deployment's
own server (upstream.py). See the README's design notes.
"""
