"""Helpers templates use to present content: localized text, dates, numbers, Markdown, times."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import format_number

from nuevonorte.consent import media_is_public
from nuevonorte.public import page_cache
from nuevonorte.public.cards import card_image, card_warnings
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
        card_image=card_image,
        card_warnings=card_warnings,
    )
    app.jinja_env.tests["public_media"] = media_is_public
