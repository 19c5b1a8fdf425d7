"""The FakeCML fixtures (see tests/fakes/fixtures.py)."""

from fakes.fixtures import client, converged, fake, spec  # noqa: F401
