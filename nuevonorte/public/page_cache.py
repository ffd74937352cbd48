"""Small per-worker caches of rendered public pages and of public-media decisions, invalidated
by any change to the archive.

A kept answer is reused only while nothing happened since it was made: the newest audit event
(every state or consent change in ``nuevonorte.stories`` records one), the collections'
revisions, the change feed's number and the day (embargoes end at midnight) are part of the
key (``generation``), with the request as the app read it (``request_key``: its scheme, host,
path, query and raw address, so a page built for one host is never given to another; A24,
and outside debug mode any other host is refused before this runs). A page is kept only from
a request that asks nothing but its address (no cookie, Range, Origin or conditional header:
``plain``) whose answer sets no cookie, so nothing personal is ever shared. The front
(``nuevonorte.public.front``) gives it again to such requests before Flask; the public
blueprint gives it to visitors with cookies too (``serve_cached``). Edits that leave no audit
event (a curator fixing a title) show up within ``PUBLIC_PAGE_CACHE_SECONDS``.

The media handler's answer to "which stored file, if any, may the public get as this variant of
this media" (``public/media.py``) is kept the same way, under the same generation: asking the
consent rule cost more than sending the file. It depends on nothing personal, so it is kept
for every request, cookies or not; a withdrawal, a narrowed consent or a withheld passage
records an audit event, and the next request in every worker asks the rule again. A whole
media answer to a plain request is kept for the front as a page is, with its stored file's key.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy.engine import Engine

from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, ChangeCounter, Collection
from nuevonorte.models.base import today
from nuevonorte.request_line import TOO_LONG
from nuevonorte.storage import Storage

DEFAULT_SECONDS = 30
MAX_PAGES = 2000
EXTENSION = "nuevonorte.page_cache"
_DECISIONS = "nuevonorte.media_decisions"
MAX_DECISIONS = 20_000


#: Set in the environ by the app when its answer may be kept: ``Keep``.
KEEP = "nuevonorte.front.keep"
#: Request headers that make an answer differ from the plain one.
_DIFFERENT = ("HTTP_COOKIE", "HTTP_RANGE", "HTTP_ORIGIN", "HTTP_IF_")
#: What identifies a request, for the app, among the environ's keys.
_IDENTITY = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "RAW_URI",
    "REQUEST_URI",
    "SERVER_PROTOCOL",
)


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer the app gave, to give again: the page's body, or the stored file's key and
    length (opened again for each answer)."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None
    storage: Storage | None = None
    stored_key: str | None = None
    length: int = 0

    @property
    def content_type(self) -> str:
        """The answer's Content-Type header."""
        return next((value for name, value in self.headers if name.lower() == "content-type"), "")


@dataclass(frozen=True, slots=True)
class Keep:
    """The app's word that its answer to this request may be kept, under ``key`` (the request's
    and the generation the answer was made in); for a stored file, which one."""

    key: tuple[Any, ...]
    storage: Storage | None = None
    stored_key: str | None = None
    #: The answer names the stored file for the server to send (``media_sendfile = "nginx"``).
    named: bool = False


def request_key(environ: dict[str, Any]) -> tuple[Any, ...] | None:
    """What the app reads of a GET to choose its answer, or None for anything else."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get(TOO_LONG):
        return None
    return tuple(environ.get(name) for name in _IDENTITY)


def plain(environ: dict[str, Any]) -> bool:
    """Whether a request asks nothing but its address: no cookie, Range, Origin or conditional."""
    return not any(name.startswith(_DIFFERENT) and value for name, value in environ.items())


def keep(
    environ: dict[str, Any],
    key: tuple[Any, ...],
    storage: Storage | None = None,
    stored_key: str | None = None,
    named: bool = False,
) -> None:
    """Say that the answer to this request may be kept (by the view, before it returns); for
    a stored file, which one, and whether the answer only names it (``Keep.named``)."""
    environ[KEEP] = Keep(key, storage, stored_key, named)


class PageCache:
    """Answers by key (a rendered page, or a media file's answer: ``nuevonorte.public.front``),
    oldest dropped first, each kept at most ``seconds``."""

    def __init__(self, seconds: float, size: int = MAX_PAGES) -> None:
        self.seconds = seconds
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        """What is stored under ``key``, if still fresh; else None."""
        with self._lock:
            found = self._pages.get(key)
        if found is None or time.monotonic() - found[0] > self.seconds:
            return None
        return found[1]

    def put(self, key: tuple[Any, ...], answer: Any) -> None:
        """Store an answer."""
        with self._lock:
            self._pages[key] = (time.monotonic(), answer)
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
    # Never older than what the request then reads and keeps under it: on SQLite a read
    # transaction keeps the snapshot of its first statement, so a generation read after it
    # began could be newer than a view's earlier reads (a theme list counted before a
    # withdrawal, kept under the generation after it). Before the session has read anything,
    # ``settled`` answers from this thread's own connection, and the session's snapshot,
    # taken later, is no older. Inside a read, the session's own snapshot is asked. On
    # PostgreSQL each statement sees every commit before it: the session is asked each time.
    if not db.session().in_transaction():
        found = settled(db.engine)
        if found is not None:
            return found
    newest_event, collections, changes = db.session.connection().exec_driver_sql(_GENERATION).one()
    return newest_event, collections, changes, today()


def current(engine: Engine) -> tuple[Any, ...]:
    """The generation as of now, outside any request's session (``nuevonorte.public.front``)."""
    found = settled(engine)
    if found is not None:
        return found
    with engine.connect() as conn:
        newest_event, collections, changes = conn.exec_driver_sql(_GENERATION).one()
    return newest_event, collections, changes, today()


# SQLite tells a connection whether any other connection (any process) committed since it
# last asked (``PRAGMA data_version``): a few microseconds, where reading the generation through
# the session (a pooled connection, BEGIN, three subqueries, ROLLBACK) costs a quarter of a
# public media request. Each thread keeps a connection of its own that never writes, with the
# generation it read on it and the data_version asked just before; that generation is reused
# while nothing at all was committed since. PostgreSQL has no such question.
_local = threading.local()


def settled(engine: Engine) -> tuple[Any, ...] | None:
    """On SQLite, the generation as of now, read on this thread's own connection only when
    anything was committed since it last read it; None on any other database."""
    conn = _connection(engine)
    if conn is None:
        return None
    # First the version, then the read: a commit in between is seen next time.
    version = int(conn.execute("PRAGMA data_version").fetchall()[0][0])
    seen = getattr(_local, "seen", None)
    if seen is None or seen[0] != version:
        # fetchall: the statement runs to its end, so no read stays open to hold back a checkpoint.
        seen = (version, tuple(conn.execute(_GENERATION).fetchall()[0]))
        _local.seen = seen
    return (*seen[1], today())


def _connection(engine: Engine) -> sqlite3.Connection | None:
    """This thread's own connection to the SQLite file (None: not SQLite, or no file)."""
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
    return conn


def serve_cached() -> Response | None:
    """Before a public page: answer from the cache when the archive has not changed since.

    A request with no cookie is answered before Flask when its page is kept
    (``nuevonorte.public.front``); this answers the others. Visitors with cookies (who chose a
    language, contributed, or curate) get cached pages too: the public pages under /es/ and
    /en/ take their language from the address and show nothing of a session, so they are
    everyone's pages (tests/public/test_page_cache.py renders each with and without sessions
    and compares). What a request with cookies renders is never stored.
    """
    cache: PageCache | None = current_app.extensions.get(EXTENSION)
    asked = request_key(request.environ)
    if cache is None or cache.seconds <= 0 or asked is None:
        return None
    key = (*asked, *generation())
    if plain(request.environ):
        g.page_cache_key = key
    found = cache.get(key)
    if not isinstance(found, Answer) or found.body is None:
        return None
    return Response(found.body, content_type=found.content_type)


def store(response: Response) -> Response:
    """After a public page: have it kept (by ``front``, once every header is on it) when it may
    be shared with every visitor (rendered for a request without cookies, setting none)."""
    key = g.pop("page_cache_key", None)
    if (
        key is not None
        and response.status_code == 200
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
    ):
        keep(request.environ, key)
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
    app.extensions[EXTENSION] = PageCache(seconds)
    app.extensions[_DECISIONS] = Decisions(seconds)
