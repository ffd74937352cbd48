"""The public front: a request the archive already answered, answered again before Flask.

A public page or media file asked for with no cookie is the same answer for every visitor
until the archive changes (``page_cache``). Flask's own handling of a request — its contexts,
the session, the hooks, the headers — cost more than the page kept for it, and more than a
thumbnail's file. So this WSGI layer, wrapped around the app, keeps the whole answer the app
gave (status line, every header, the body or the stored file's key) and gives it again to the
next request that is the same in everything the app read of it, while nothing changed:

- only a GET with no cookie, no Range, no conditional header, no Origin, and no mark of a
  refused request line (``request_line.TOO_LONG``); anything else goes to the app;
- the same request: scheme, host, server name and port, script name, path, query, and the raw
  address as the client wrote it (``request_key``); what the app refused once (a foreign host,
  a NUL, a line too long) it refused for one of these, so it never had an answer to keep;
- the same generation (``page_cache.generation``: the newest audit event, the collections'
  revisions, the change feed's number, the day), asked of the database on each request; a
  withdrawal, a narrowed consent, a withheld passage move it, and the next request in every
  worker goes to the app again (decision 0031);
- the withdrawal ledger as the app's guard last saw it (``ledger.settled``): a ledger that
  grew goes to the app, whose guard replays what the database lacks before anything is shown;
- kept only when the app said so: a page the public blueprint stored (``page_cache.store``),
  a media file the media handler sent whole from the media folder (``public.media``), and
  only if the answer sets no cookie;
- a stored file is opened again for each answer, with the storage's own checks, and must
  still have the length it was sent with (nginx's answer naming it: must still open); if it
  is gone, the app answers;
- a request no answer was ever kept for goes to the app without the front asking anything;
  and when the ledger or the database cannot be asked, the app answers (and says why).

What the front skips of the app for such a request is what the app's answer cannot depend on
(see each point above), and the answer is the app's own, byte for byte
(tests/public/test_front.py compares them and walks changes through it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.wsgi import wrap_file

from nuevonorte import ledger
from nuevonorte.extensions import db
from nuevonorte.public import page_cache
from nuevonorte.storage import StorageError

#: How much of a stored file is sent at a time.
CHUNK = 256 * 1024

StartResponse = Callable[..., Any]


class Front:
    """The WSGI layer: answers kept answers, and keeps the ones the app marks."""

    def __init__(self, app: Flask, inner: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.inner = inner
        self.cache: page_cache.PageCache = app.extensions[page_cache.EXTENSION]
        #: The requests an answer was ever kept for: any other goes to the app without asking
        #: the database anything (static files, the API, a search).
        self.kept: set[tuple[Any, ...]] = set()
        with app.app_context():
            self.engine = db.engine
            self.ledger = ledger.guard_key()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        asked = page_cache.request_key(environ) if self.cache.seconds > 0 else None
        if asked is None or not page_cache.plain(environ):
            return self.inner(environ, start_response)
        if asked in self.kept:
            given = self._again(asked, environ, start_response)
            if given is not None:
                return given
        sent: list[Any] = []

        def noting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.inner(environ, noting)
        mark: page_cache.Keep | None = environ.get(page_cache.KEEP)
        if mark is None or not sent or not sent[0].startswith("200 "):
            return body
        headers = tuple((str(name), str(value)) for name, value in sent[1])
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return body
        if mark.stored_key is not None and not mark.named:  # the file is sent: opened again each time
            length = next((int(v) for n, v in headers if n.lower() == "content-length"), -1)
            if length >= 0:
                answer = page_cache.Answer(sent[0], headers, None, mark.storage, mark.stored_key, length)
                self._keep(asked, mark.key, answer)
            return body
        try:  # a page, or an answer that names its file: its body, read whole (one piece already)
            whole = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self._keep(asked, mark.key, page_cache.Answer(sent[0], headers, whole, mark.storage, mark.stored_key))
        return [whole]

    def _keep(self, asked: tuple[Any, ...], key: tuple[Any, ...], answer: page_cache.Answer) -> None:
        if len(self.kept) >= 2 * self.cache.size:  # requests asked once, long ago
            self.kept.clear()
        self.kept.add(asked)
        self.cache.put(key, answer)

    def _again(
        self, asked: tuple[Any, ...], environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes] | None:
        """The kept answer to this request, given; None when there is none to give, or when
        the ledger or the database cannot be asked (the app then answers, and says why)."""
        try:
            if not ledger.settled(self.ledger):
                return None
            found = self.cache.get((*asked, *page_cache.current(self.engine)))
        except Exception:  # a database that refuses connections, a ledger that cannot be read
            return None
        if not isinstance(found, page_cache.Answer):
            return None
        if found.storage is None or found.stored_key is None:
            start_response(found.status, list(found.headers))
            return [found.body or b""]
        try:
            reader = found.storage.open(found.stored_key)
        except (OSError, StorageError):
            return None  # gone since: the app says what is there now
        try:
            if found.body is not None:  # the answer names the file (nginx sends it): it is there
                reader.close()
                start_response(found.status, list(found.headers))
                return [found.body]
            if os.fstat(reader.fileno()).st_size != found.length:
                reader.close()
                return None
            start_response(found.status, list(found.headers))
            return wrap_file(environ, reader, CHUNK)
        except BaseException:
            reader.close()
            raise


def init_app(app: Flask) -> None:
    """Wrap the app in the front while the page cache is on (``PUBLIC_PAGE_CACHE_SECONDS``)."""
    if app.extensions[page_cache.EXTENSION].seconds > 0:
        app.wsgi_app = Front(app, app.wsgi_app)  # type: ignore[method-assign]
