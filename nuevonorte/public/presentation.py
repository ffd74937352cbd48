"""Helpers templates use to present content: localized text, dates, numbers, Markdown, times."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, url_for
from flask_babel import format_number

from nuevonorte.consent import media_is_public
from nuevonorte.i18n import current_locale
from nuevonorte.models import Place, Theme
from nuevonorte.public import page_cache
from nuevonorte.public.content import language_code, language_note, month_year, shown
from nuevonorte.rich_text import render_markdown


def clock(seconds: float) -> str:
    """A media time as m:ss (or h:mm:ss), the same in every language."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def has_language_prefix() -> bool:
    """Whether this page lives under ``/<lang>/`` (its language comes from the URL)."""
    return bool(g.get("lang"))


def term_url(term: Theme | Place, lang: str | None = None, **args: Any) -> str:
    """A theme's or place's page, with its short id in the page's language (or ``lang``)."""
    lang = lang or current_locale()
    endpoint = "public.theme" if isinstance(term, Theme) else "public.place"
    return url_for(endpoint, lang=lang, slug=term.slug_for(lang), **args)


def init_app(app: Flask) -> None:
    """Expose the helpers to every template, and set up the public page cache."""
    page_cache.init_app(app)
    app.jinja_env.globals.update(
        shown=shown,
        language_note=language_note,
        language_code=language_code,
        month_year=month_year,
        render_markdown=render_markdown,
        format_number=format_number,
        clock=clock,
        has_language_prefix=has_language_prefix,
        term_url=term_url,
    )
    app.jinja_env.tests["public_media"] = media_is_public
