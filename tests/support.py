"""Helpers for tests that need a system tool (a browser, exiftool, PostgreSQL)."""

from __future__ import annotations

import os

import pytest

REQUIRE_ALL = os.environ.get("NUEVONORTE_REQUIRE_ALL") == "1"


def require(condition: bool, reason: str) -> None:
    """Skip a test whose system tool is missing — or fail, when CI demands every test run."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"NUEVONORTE_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)
