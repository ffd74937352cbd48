"""Locales: which are supported, how the active one is chosen, and the URL language prefix.

Public pages carry their language in the URL (``/es/...``, ``/en/...``). Elsewhere the
locale comes from the session (a choice the person made), then Accept-Language, then the
default (Spanish). A value that is not a supported locale is never used or reflected.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, has_request_context, request, session, url_for
from flask_babel import get_locale

from nuevonorte.extensions import babel


def locales() -> tuple[str, ...]:
    """The supported locales, default first."""
    supported: tuple[str, ...] = current_app.config["LOCALES"]
    return supported


def is_locale(value: Any) -> bool:
    """Whether ``value`` is exactly one of the supported locale codes."""
    return isinstance(value, str) and value in locales()


def negotiated_locale() -> str:
    """The best supported locale for this request's Accept-Language, or the default."""
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    return request.accept_languages.best_match(locales(), default=default) or default


def select_locale() -> str:
    """Flask-Babel's locale selector: URL prefix, then session choice, then the browser."""
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    url_lang = g.get("lang")
    if is_locale(url_lang):
        return str(url_lang)
    chosen = session.get("lang")
    if is_locale(chosen):
        return str(chosen)
    return negotiated_locale()


def current_locale() -> str:
    """The active locale code, for templates (``<html lang>``) and content choice."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def other_locale() -> str:
    """The supported locale that is not active (for the language switch)."""
    here = current_locale()
    return next(code for code in locales() if code != here)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our selector and expose locale helpers to templates."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        current_locale=current_locale,
        other_locale=other_locale,
        locales=locales,
        url_in_locale=url_in_locale,
    )


#: Query arguments that are part of "the same page" (page number, search, start time, warning
#: already seen); anything else a visitor adds is dropped, never reflected.
KEPT_QUERY_ARGS = ("page", "q", "t", "show")


def url_in_locale(locale: str) -> str:
    """The current page in ``locale``: same endpoint and arguments, other language prefix."""
    if not is_locale(locale):
        locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.endpoint and g.get("lang"):
        args = dict(request.view_args or {})
        args.update(g.get("view_args_by_locale", {}).get(locale, {}))
        args["lang"] = locale
        for name in KEPT_QUERY_ARGS:
            if name in request.args and name not in args:
                args[name] = request.args[name]
        return url_for(request.endpoint, **args)
    return url_for("public.home", lang=locale)


def localize_view_args(by_locale: dict[str, dict[str, Any]]) -> None:
    """Arguments of this page's address that differ by language (a theme's short id), for
    ``url_in_locale``: the language switch and ``hreflang`` links then lead to the right page."""
    g.view_args_by_locale = by_locale


def prefix_language(bp: Blueprint) -> None:
    """Give every URL of ``bp`` a language prefix (``/es/...``): an unknown one is a 404."""

    @bp.url_value_preprocessor
    def _pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        lang = (values or {}).pop("lang", None)
        if not is_locale(lang):
            abort(404)
        g.lang = lang

    @bp.url_defaults
    def _add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" not in values and g.get("lang"):
            values["lang"] = g.lang
