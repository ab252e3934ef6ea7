"""Fixtures shared by the unit tests of `consumer`."""

from tests.support.tracing import spans

__all__ = ["spans"]
