"""Error pages in the visitor's language: no stack trace, path, SQL or content ever shown."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError, ServiceUnavailable

from nuevonorte.extensions import db
from nuevonorte.i18n import negotiated_locale
from nuevonorte.safe_input import BadInput

MESSAGES = {
    400: (_l("Something in the request was not right"), _l("Please go back and try again.")),
    403: (_l("You cannot do this"), _l("Your account does not allow this action.")),
    404: (
        _l("Page not found"),
        _l("There is nothing at this address, or it is not public. Nothing is wrong on your side."),
    ),
    405: (_l("Something in the request was not right"), _l("Please go back and try again.")),
    413: (
        _l("The files are too large"),
        _l("What you sent is larger than the archive accepts. Your text was not lost: go back to keep it."),
    ),
    414: (
        _l("This address is too long"),
        _l("Links to the archive are much shorter. Check the address, or search with a few words."),
    ),
    429: (_l("Too many attempts"), _l("Please wait a few minutes and try again.")),
    500: (
        _l("Something went wrong on our side"),
        _l("It is not your fault. Nothing was saved halfway. Please try again later."),
    ),
    503: (
        _l("The archive is busy"),
        _l("It is not your fault. Please try again in a few minutes."),
    ),
}
FOREIGN_HOST_MESSAGE = (
    _l("This address is not the archive's"),
    _l("The link you followed names another website. Type the archive's address yourself, or search for it."),
)
CSRF_MESSAGE = (
    _l("This form expired"),
    _l("For your safety, forms expire after a while. Go back, reload the page and send it again."),
)


API_PREFIX = "/api/"
#: Stable codes for JSON errors under ``/api/`` (partner tools read ``error``, people ``message``).
API_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    414: "too_long",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def _render(code: int, heading: str, text: str, **api: Any) -> tuple[str | Response, int]:
    """The error page, or for a partner tool under ``/api/`` the same message as JSON (``api``
    may name another ``error`` code and add fields)."""
    if request.path.startswith(API_PREFIX):
        body = {"error": API_CODES.get(code, "bad_request"), "message": f"{heading}. {text}"} | api
        return jsonify(body), code
    return render_template("errors/error.html", code=code, heading=heading, text=text, error_page=True), code


def unavailable() -> tuple[str | Response, int]:
    """The 503 page (or JSON): the archive cannot serve right now; nothing about why."""
    heading, text = MESSAGES[503]
    return _render(503, str(heading), str(text))


def init_app(app: Flask) -> None:
    """Register the error pages."""

    @app.errorhandler(CSRFError)
    def _csrf(_e: CSRFError) -> tuple[str | Response, int]:
        return _render(400, str(CSRF_MESSAGE[0]), str(CSRF_MESSAGE[1]))

    @app.url_value_preprocessor
    def _refuse_foreign_host(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
        # App-wide URL value preprocessors run first: a refused Host (A24) is answered before
        # any before_request hook (the NUL check, CSRF, admission) can build a page without it.
        if isinstance(request.routing_exception, SecurityError):
            raise request.routing_exception

    @app.errorhandler(SecurityError)
    def _foreign_host(_e: SecurityError) -> tuple[str | Response, int]:
        # A Host outside TRUSTED_HOSTS (A24): Flask refused it before routing, so this request
        # has no URL adapter. The page's links are relative; bind one to a name we trust. The
        # refused name is never shown or logged.
        request_ctx.url_adapter = app.url_map.bind(
            "localhost", script_name=request.root_path or "/", url_scheme=request.scheme
        )
        return _render(400, str(FOREIGN_HOST_MESSAGE[0]), str(FOREIGN_HOST_MESSAGE[1]))

    @app.errorhandler(BadInput)
    def _bad_input(e: BadInput) -> tuple[str | Response, int]:
        # A NUL or an impossible number (A23), refused before the API's own hook set its language.
        if request.path.startswith(API_PREFIX):
            g.lang = g.get("lang") or negotiated_locale()
        return _render(400, str(e.heading), str(e.text), error="bad_input", kept=False)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> tuple[str | Response, int] | HTTPException:
        code = e.code or 500
        if code < 400:
            return e
        heading, text = MESSAGES.get(code, MESSAGES[400 if code < 500 else 500])
        return _render(code, str(heading), str(text))

    @app.errorhandler(OperationalError)
    def _database_unavailable(_e: OperationalError) -> tuple[str | Response, int]:
        db.session.rollback()
        app.logger.error("database unavailable during %s %s", request.method, request.endpoint)
        heading, text = MESSAGES[ServiceUnavailable.code]
        return _render(ServiceUnavailable.code, str(heading), str(text))

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> tuple[str | Response, int]:
        db.session.rollback()
        # Log the type and where, never the form contents (docs/security.md M18).
        app.logger.error(
            "unexpected %s during %s %s",
            type(e).__name__,
            request.method,
            request.endpoint,
            exc_info=app.debug,
        )
        heading, text = MESSAGES[InternalServerError.code]
        return _render(InternalServerError.code, str(heading), str(text))
