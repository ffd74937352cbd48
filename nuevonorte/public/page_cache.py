"""Small per-worker caches of rendered public pages and of public-media decisions, invalidated
by any change to the archive.

A cached page is reused only while nothing happened since it was rendered: the newest audit
event (every state or consent change in ``nuevonorte.stories`` records one), the collections'
revisions, the change feed's number and the day (embargoes end at midnight) are part of the
key. A page is stored only from a request without cookies whose response sets none, so nothing
personal is ever shared; it is served to every visitor, cookies or not (``serve_cached``). The
address its absolute URLs start with is part of the key too: the configured ``public_url``, the
same for every request, or without one the request's own host, so a page built for one host is
never served to another (A24; outside debug mode any other host is refused before this runs). Edits
that leave no audit event (a curator fixing a title) show up within ``PUBLIC_PAGE_CACHE_SECONDS``.

The media handler's answer to "which stored file, if any, may the public get as this variant of
this media" (``public/media.py``) is kept the same way, under the same generation: asking the
consent rule cost more than sending the file. It depends on nothing personal, so it is kept
for every request, cookies or not; a withdrawal, a narrowed consent or a withheld passage
records an audit event, and the next request in every worker asks the rule again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Response, current_app, g, request

from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, ChangeCounter, Collection
from nuevonorte.models.base import today
from nuevonorte.public.address import base_url

DEFAULT_SECONDS = 30
MAX_PAGES = 2000
_EXTENSION = "nuevonorte.page_cache"
_DECISIONS = "nuevonorte.media_decisions"
MAX_DECISIONS = 20_000


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
# The change counter too: audit ids are taken when a row is written, not when it commits, so
# on PostgreSQL a change may commit under an id below the newest one already seen; the
# counter's number is taken under a lock held until commit (``nuevonorte.publication``), so
# every public change that commits moves it on.
_GENERATION = (
    "SELECT (SELECT max(id) FROM audit_event), (SELECT coalesce(sum(revision), 0) FROM collection), "
    "(SELECT coalesce(max(value), 0) FROM change_counter)"
)
assert AuditEvent.__tablename__ == "audit_event" and Collection.__tablename__ == "collection"
assert ChangeCounter.__tablename__ == "change_counter"


def generation() -> tuple[Any, ...]:
    """What the archive's public face depends on, as of now: the newest audit event, the
    collections' revisions, the change feed's number, and the day."""
    # Through the request's own session, so that what is then read and kept under it is never
    # older than it: on SQLite a read transaction keeps the snapshot of its first statement, and
    # on another connection the generation could be newer than a view's earlier reads (a theme
    # list counted before a withdrawal, kept under the generation after it). On PostgreSQL each
    # statement sees every commit before it, so reading the generation first is enough.
    # On the session's connection without the ORM's statement handling: this runs on every
    # public request and media file.
    if not db.session().in_transaction():  # the read below starts the session's snapshot
        seen = _unchanged_since()
        if seen is not None:
            return (*seen, today())
        version = _data_version()  # before the read: a commit in between is seen next time
    else:  # a snapshot taken earlier may be older than this moment: nothing to remember
        version = None
    newest_event, collections, changes = db.session.connection().exec_driver_sql(_GENERATION).one()
    if version is not None:
        _local.seen = (version, (newest_event, collections, changes))
    return newest_event, collections, changes, today()


# SQLite tells a connection whether any other connection (any process) committed since it
# last asked (``PRAGMA data_version``): a few microseconds, where reading the generation through
# the session (a pooled connection, BEGIN, three subqueries, ROLLBACK) costs a quarter of a
# public media request. Each thread keeps a connection of its own that never writes, with the
# generation it saw then; it is reused only when nothing at all was committed since, and only
# before the request's session has read anything (its snapshot, taken later, can then be no
# older than the generation). PostgreSQL has no such question: the generation is read each time.
_local = threading.local()


def _data_version() -> int | None:
    """This thread's answer to ``PRAGMA data_version`` (None: not SQLite, or no file)."""
    engine = db.engine
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    try:  # the file's inode too: a database file replaced (a restore) is a new one to ask
        key = (os.getpid(), engine.url.database, os.stat(engine.url.database).st_ino)
    except OSError:
        return None
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "key", None) != key:  # a forked worker opens its own
        if conn is not None:
            conn.close()
        conn = sqlite3.connect(engine.url.database, isolation_level=None, check_same_thread=True)
        _local.conn, _local.key, _local.seen = conn, key, None
    # fetchall: the statement runs to its end, so no read stays open to hold back a checkpoint.
    return int(conn.execute("PRAGMA data_version").fetchall()[0][0])


def _unchanged_since() -> tuple[Any, ...] | None:
    """The generation this thread last read, if nothing was committed since; else None."""
    version = _data_version()  # first: opening another database's connection forgets what was seen
    seen = getattr(_local, "seen", None)
    if seen is None or version is None:
        return None
    return seen[1] if version == seen[0] else None


def serve_cached() -> Response | None:
    """Before a public page: answer from the cache when the archive has not changed since.

    Visitors with cookies (who chose a language, contributed, or curate) get cached pages too:
    the public pages under /es/ and /en/ take their language from the address and show nothing
    of a session, so they are everyone's pages (tests/public/test_page_cache.py renders each
    with and without sessions and compares). What a request with cookies renders is never
    stored.
    """
    cache: PageCache | None = current_app.extensions.get(_EXTENSION)
    if cache is None or cache.seconds <= 0 or request.method != "GET":
        return None
    key = (base_url(), request.full_path, *generation())
    if not request.cookies:
        g.page_cache_key = key
    found = cache.get(key)
    if found is None:
        return None
    return Response(found[0], content_type=found[1])


def store(response: Response) -> Response:
    """After a public page: remember it when it may be shared with every visitor (rendered for
    a request without cookies, setting none)."""
    key = g.pop("page_cache_key", None)
    if (
        key is not None
        and response.status_code == 200
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
    ):
        current_app.extensions[_EXTENSION].put(key, response.get_data(), response.content_type or "")
    return response


class Decisions:
    """The public-media decisions of one worker: (media id, variant) -> the generation they were
    made in, and the stored key (None: not public). Oldest dropped first; each kept at most
    ``seconds``."""

    def __init__(self, seconds: float, size: int = MAX_DECISIONS) -> None:
        self.seconds = seconds
        self.size = size
        self._found: OrderedDict[tuple[str, str], tuple[float, tuple[Any, ...], str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, media_id: str, variant: str, now: tuple[Any, ...]) -> tuple[bool, str | None]:
        """(True, key) when a decision made in generation ``now`` is kept, else (False, None)."""
        with self._lock:
            found = self._found.get((media_id, variant))
        if found is None or found[1] != now or time.monotonic() - found[0] > self.seconds:
            return False, None
        return True, found[2]

    def put(self, media_id: str, variant: str, now: tuple[Any, ...], key: str | None) -> None:
        """Keep a decision made in generation ``now``."""
        with self._lock:
            self._found[(media_id, variant)] = (time.monotonic(), now, key)
            self._found.move_to_end((media_id, variant))
            while len(self._found) > self.size:
                self._found.popitem(last=False)


def media_decisions() -> Decisions | None:
    """This worker's media decisions, or None when caching is off (``PUBLIC_PAGE_CACHE_SECONDS`` 0)."""
    found: Decisions | None = current_app.extensions.get(_DECISIONS)
    return found if found is not None and found.seconds > 0 else None


def init_app(app: Flask) -> None:
    """Create the caches (``PUBLIC_PAGE_CACHE_SECONDS``; 0 turns them off, the default under tests)."""
    seconds = app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0 if app.testing else DEFAULT_SECONDS)
    app.extensions[_EXTENSION] = PageCache(seconds)
    app.extensions[_DECISIONS] = Decisions(seconds)
