"""A small per-worker cache of rendered public pages, invalidated by any change to the archive.

A cached page is reused only while nothing happened since it was rendered: the newest audit
event (every state or consent change in ``nuevonorte.stories`` records one), the collections'
revisions and the day (embargoes end at midnight) are part of the key. A page is cached only for
a request without cookies whose response sets none, so nothing personal is ever shared. The
address its absolute URLs start with is part of the key too: the configured ``public_url``, the
same for every request, or without one the request's own host, so a page built for one host is
never served to another (A24; outside debug mode any other host is refused before this runs). Edits
that leave no audit event (a curator fixing a title) show up within ``PUBLIC_PAGE_CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Response, current_app, g, request

from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, Collection
from nuevonorte.models.base import today
from nuevonorte.public.address import base_url

DEFAULT_SECONDS = 30
MAX_PAGES = 2000
_EXTENSION = "nuevonorte.page_cache"


class PageCache:
    """Rendered pages by key, oldest dropped first, each kept at most ``seconds``."""

    def __init__(self, seconds: float, size: int = MAX_PAGES) -> None:
        self.seconds = seconds
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, str] | None:
        """The body and content type stored under ``key``, if still fresh."""
        with self._lock:
            found = self._pages.get(key)
            if found is None or time.monotonic() - found[0] > self.seconds:
                return None
            return found[1], found[2]

    def put(self, key: tuple[Any, ...], body: bytes, content_type: str) -> None:
        """Store a rendered page."""
        with self._lock:
            self._pages[key] = (time.monotonic(), body, content_type)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


# Plain SQL, built once: this runs on every public request and must cost next to nothing.
_GENERATION = "SELECT (SELECT max(id) FROM audit_event), (SELECT coalesce(sum(revision), 0) FROM collection)"
assert AuditEvent.__tablename__ == "audit_event" and Collection.__tablename__ == "collection"


def _generation() -> tuple[Any, ...]:
    # Straight on a pooled connection, outside the ORM session (cheaper on every request).
    with db.engine.connect() as connection:
        newest_event, collections = connection.exec_driver_sql(_GENERATION).one()
    return newest_event, collections, today()


def serve_cached() -> Response | None:
    """Before a public page: answer from the cache when the archive has not changed since."""
    cache: PageCache | None = current_app.extensions.get(_EXTENSION)
    if cache is None or cache.seconds <= 0 or request.method != "GET" or request.cookies:
        return None
    key = (base_url(), request.full_path, *_generation())
    g.page_cache_key = key
    found = cache.get(key)
    if found is None:
        return None
    return Response(found[0], content_type=found[1])


def store(response: Response) -> Response:
    """After a public page: remember it when it may be shared with every cookie-less visitor."""
    key = g.pop("page_cache_key", None)
    if (
        key is not None
        and response.status_code == 200
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
    ):
        current_app.extensions[_EXTENSION].put(key, response.get_data(), response.content_type or "")
    return response


def init_app(app: Flask) -> None:
    """Create the cache (``PUBLIC_PAGE_CACHE_SECONDS``; 0 turns it off, the default under tests)."""
    seconds = app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0 if app.testing else DEFAULT_SECONDS)
    app.extensions[_EXTENSION] = PageCache(seconds)
