"""Bilingual content as shown to a visitor: the text, and its language when it is not theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from flask_babel import gettext as _

from nuevonorte.i18n import current_locale


@dataclass(frozen=True)
class Shown:
    """A text to show, with ``lang`` set only when it is in a language other than the page's."""

    text: str
    lang: str | None = None

    def __bool__(self) -> bool:
        return bool(self.text)

    def __str__(self) -> str:
        return self.text


def shown(es: str, en: str) -> Shown:
    """The visitor's language when that text exists, else the other language, marked with ``lang``."""
    here = current_locale()
    preferred, other, other_code = (en, es, "es") if here == "en" else (es, en, "en")
    if preferred:
        return Shown(preferred)
    return Shown(other, other_code) if other else Shown("")


def language_note(original_language: str) -> str | None:
    """A localized note when a story is told in a language other than the page's, else None."""
    here = current_locale()
    code = (original_language or "es").split("-")[0].lower()
    if code == here:
        return None
    if code == "es":
        return str(_("This story is only available in Spanish."))
    if code == "en":
        return str(_("This story is only available in English."))
    try:
        name = Locale.parse(code).get_display_name(here) or code
    except (ValueError, UnknownLocaleError):
        return None
    return str(_("This story is told in %(language)s.", language=name))


def language_code(original_language: str) -> str:
    """A safe value for a ``lang`` attribute (letters, digits and hyphens only)."""
    code = "".join(c for c in (original_language or "") if c.isalnum() or c == "-")[:16]
    return code or "es"


def month_year(day: date | None) -> str:
    """A coarse date, month and year, in the page's language ("noviembre de 2026")."""
    if day is None:
        return ""
    return format_skeleton("yMMMM", day, locale=current_locale())
