"""Test doubles: ``FakeCML``, a stateful in-memory CML workspace behind ``responses``."""
