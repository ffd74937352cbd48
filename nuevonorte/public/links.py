"""Absolute addresses of public pages, for what leaves the site (citations).

One function, so that the archive's configured public address can be used in one place: for
now Flask builds it from the request (``url_for(..., _external=True)``).
"""

from __future__ import annotations

from typing import Any

from flask import url_for


def absolute_url(endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint`` with ``values``."""
    return url_for(endpoint, _external=True, **values)
