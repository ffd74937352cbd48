"""Helpers templates use to present content: localized text, dates, numbers, Markdown, times."""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

from flask import Flask, g, url_for
from flask_babel import format_number
from PIL import Image

from nuevonorte import transcripts
from nuevonorte.consent import media_is_public
from nuevonorte.i18n import current_locale
from nuevonorte.models import Place, Theme
from nuevonorte.public import address, page_cache
from nuevonorte.public.cards import card_image, card_warnings
from nuevonorte.public.content import language_code, language_note, month_year, shown
from nuevonorte.rich_text import plain_text, render_markdown
from nuevonorte.storage import StorageError, content_type, get_storage

#: The locale code Open Graph expects for each interface language.
OG_LOCALES = {"es": "es_MX", "en": "en_US"}


def clock(seconds: float) -> str:
    """A media time as m:ss (or h:mm:ss), the same in every language."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def has_language_prefix() -> bool:
    """Whether this page lives under ``/<lang>/`` (its language comes from the URL)."""
    return bool(g.get("lang"))


def image_size(key: str | None) -> tuple[int, int] | None:
    """Width and height of the stored image ``key``, read from its header; None if unreadable."""
    if not key:
        return None
    try:
        with warnings.catch_warnings():
            # A stored picture passed the upload limits when it came in; reading its header is
            # never a decompression bomb, whatever limit this process was last given.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _stored_size(key)
    except (OSError, ValueError, StorageError, Image.DecompressionBombError):
        return None


@lru_cache(maxsize=4096)
def _stored_size(key: str) -> tuple[int, int]:
    # A key names its content (a hash), so its size never changes: read each header once.
    with get_storage().open(key) as stored, Image.open(stored, formats=("JPEG", "PNG", "WEBP")) as image:
        width, height = image.size
        return width, height


def term_url(term: Theme | Place, lang: str | None = None, **args: Any) -> str:
    """A theme's or place's page, with its short id in the page's language (or ``lang``)."""
    lang = lang or current_locale()
    endpoint = "public.theme" if isinstance(term, Theme) else "public.place"
    return url_for(endpoint, lang=lang, slug=term.slug_for(lang), **args)


def init_app(app: Flask) -> None:
    """Expose the helpers to every template, and set up the public page cache."""
    page_cache.init_app(app)
    address.init_app(app)
    app.jinja_env.globals.update(
        image_size=image_size,
        content_type=content_type,
        og_locales=OG_LOCALES,
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
        term_url=term_url,
        # What the public sees of a transcript's speakers and segments (the rules live there).
        public_speakers=transcripts.public_speakers,
        speaker_turns=transcripts.speaker_turns,
        public_segments=transcripts.public_segments,
    )
    app.jinja_env.tests["public_media"] = media_is_public
    app.jinja_env.filters["plain"] = plain_text
