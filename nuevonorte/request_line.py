"""How long a request line (method, address, protocol) may be: one number for server and app.

gunicorn refuses a longer line before any of our code runs, with a page of its own in English
(``limit_request_line``, set from ``MAX_REQUEST_LINE`` in ``nuevonorte.gunicorn_config``).
``nuevonorte.gunicorn_worker`` asks the app for the answer instead, marking the request
``TOO_LONG``; and the app refuses the same lines itself when another server (or a test client)
lets them through. So a very long address — a search of 5,000 or 20,000 characters — always
gets the archive's own 414 page in the visitor's language, the same whatever serves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import RequestURITooLarge

#: The longest request line read, in bytes: gunicorn's own default. A search is at most 200
#: characters (``nuevonorte.search.query.MAX_QUERY_CHARS``), about 1,200 bytes once encoded.
MAX_REQUEST_LINE = 4094

#: The WSGI environ key that says the server refused this request's line as too long.
TOO_LONG = "nuevonorte.request_line_too_long"


def request_line_length(environ: Mapping[str, Any]) -> int:
    """The length in bytes of the request line as the client sent it (near enough when the
    server does not keep the raw address: the path is then counted unescaped)."""
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", ""))
    path = raw.split("?", 1)[0]
    query = str(environ.get("QUERY_STRING", ""))
    target = path + ("?" + query if query else "")
    method = str(environ.get("REQUEST_METHOD", "GET"))
    protocol = str(environ.get("SERVER_PROTOCOL", "HTTP/1.1"))
    return len(f"{method} {target} {protocol}")


def refuse_long_lines() -> None:
    """Before anything else: a line gunicorn would refuse is refused here too (414)."""
    if request.environ.get(TOO_LONG) or request_line_length(request.environ) > MAX_REQUEST_LINE:
        raise RequestURITooLarge()


def init_app(app: Flask) -> None:
    """Install the check first, before every other hook (nothing reads such a request)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_long_lines)
