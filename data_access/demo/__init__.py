"""The deterministic demo district (or city) and the live event simulator; the same generator builds
the test databases at tiny scale."""

from data_access.demo.build import build_demo

__all__ = ["build_demo"]
