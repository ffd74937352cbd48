"""The archive's public address: every absolute URL, a page's canonical URL and its alternates.

Absolute URLs (og:url, og:image, canonical, hreflang, sitemap) start with the configured
``public_url``, never with the request's Host, so that one request naming another host cannot
put that host into a page the cache then shares with everyone (docs/security.md A24). Without
a ``public_url`` (``make run``) they follow the request, whose host outside debug mode can only
be a loopback name (``TRUSTED_HOSTS``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request, url_for

from nuevonorte.i18n import current_locale, locales

#: hreflang's name for "any other language": the default locale's page (Spanish).
X_DEFAULT = "x-default"


def base_url() -> str:
    """scheme://host[:port] of every absolute URL, without a trailing slash."""
    configured: str = current_app.config["PUBLIC_URL"]
    return configured or request.host_url.rstrip("/")


def absolute_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` on the public address."""
    return base_url() + url_for(endpoint, **values)


def canonical_url(locale: str | None = None, page: Any = None) -> str:
    """This page's one address in ``locale`` (the current one by default): its path, and its
    page number when past the first; no ``?show``, ``?t`` or any other query argument."""
    values = dict(request.view_args or {})
    values["lang"] = locale or current_locale()
    # Arguments that differ by language (a theme's short id: i18n.localize_view_args).
    values.update(g.get("view_args_by_locale", {}).get(values["lang"], {}))
    if isinstance(page, int) and not isinstance(page, bool) and page > 1:
        values["page"] = page
    return absolute_url(str(request.endpoint), **values)


def language_alternates(page: Any = None) -> list[tuple[str, str]]:
    """(hreflang, URL) for this page in every locale, then ``x-default`` (the default locale)."""
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    pairs = [(code, canonical_url(code, page)) for code in locales()]
    return [*pairs, (X_DEFAULT, canonical_url(default, page))]


def init_app(app: Flask) -> None:
    """Expose the address helpers to templates."""
    app.jinja_env.globals.update(
        absolute_url=absolute_url,
        canonical_url=canonical_url,
        language_alternates=language_alternates,
    )
