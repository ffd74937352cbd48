"""gunicorn's sync worker, answering a request line that is too long through the archive itself.

gunicorn refuses a request line longer than ``limit_request_line`` before any application code
runs, and answers with a page of its own, in English (``414 URI Too Long``): a visitor who
followed a very long search link got that page. This worker looks at the start of each request
without consuming it (``MSG_PEEK``, so gunicorn still parses exactly what was sent) and, when
gunicorn refuses the line, asks the app for its answer to the same path, with the query
arguments that arrived whole, marked ``request_line.TOO_LONG``: the app answers 414 in the
language of the address (``/es/...``, ``/en/...``, the API's ``lang``), as it does for the
same line under any other server (``nuevonorte.request_line``).

Use: ``worker_class`` in ``nuevonorte.gunicorn_config``.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.sync import SyncWorker
from werkzeug.test import EnvironBuilder, run_wsgi_app

from nuevonorte.request_line import MAX_REQUEST_LINE, TOO_LONG

#: Headers the worker writes itself: the answer is complete and the connection closes.
_OWN_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})


class LocalizedErrorsWorker(SyncWorker):
    """The sync worker, with the archive's own localized page for a too-long request line."""

    _head = b""

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        """Keep a copy of the request's first bytes (left in the socket), then serve as usual."""
        self._head = b""
        if not self.cfg.is_ssl:
            # A socket that cannot be peeked at is served as usual, only without the copy.
            with contextlib.suppress(OSError):
                self._head = client.recv(self.cfg.limit_request_line or MAX_REQUEST_LINE, socket.MSG_PEEK)
        super().handle(listener, client, addr)

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """A too-long line gets the app's answer; every other error gunicorn's own."""
        if not isinstance(exc, LimitRequestLine):
            super().handle_error(req, client, addr, exc)
            return
        # No address in the log (docs/security.md M17), only what was refused.
        self.log.warning("Invalid request: %s", exc)
        try:
            answer = too_long_answer(self.wsgi, self._head)
        except Exception as error:  # never worse than gunicorn's own page
            self.log.warning("Could not render the too-long page: %s", type(error).__name__)
            super().handle_error(req, client, addr, exc)
            return
        try:
            client.sendall(answer)
        except OSError:
            self.log.debug("Failed to send the too-long page.")


def too_long_answer(app: Any, head: bytes) -> bytes:
    """The app's complete HTTP answer to a request line refused as too long, of which ``head``
    is the beginning (possibly empty)."""
    path, query = _target(head)
    environ = EnvironBuilder(
        path=path, query_string=query, method="GET", environ_overrides={TOO_LONG: True}
    ).get_environ()
    body_iter, status, headers = run_wsgi_app(app, environ)
    try:
        body = b"".join(body_iter)
    finally:
        close = getattr(body_iter, "close", None)
        if close is not None:
            close()
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() not in _OWN_HEADERS]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _target(head: bytes) -> tuple[str, str]:
    """The path, and the query arguments that arrived whole, of a request line's beginning."""
    if head.startswith(b"PROXY "):  # a PROXY protocol line comes first
        head = head.partition(b"\r\n")[2]
    parts = head.split(b" ", 2)
    target = parts[1] if len(parts) > 1 else b"/"
    if not target.startswith(b"/"):
        target = b"/"
    raw_path, has_query, raw_query = target.partition(b"?")
    whole = len(parts) > 2  # the line ended within ``head``
    if not has_query and not whole:
        raw_path = raw_path[: raw_path.rfind(b"/") + 1]  # the path itself was cut: keep its folders
    if has_query and not whole:
        raw_query = raw_query[: max(raw_query.rfind(b"&"), 0)]  # drop the argument that was cut
    return raw_path.decode("latin-1"), raw_query.decode("latin-1")
