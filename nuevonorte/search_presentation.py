"""Presentation helpers shared by the public and staff search pages and the search API: paging
links, messages, labels (request code, kept out of the ``search`` package, which reads no request).

The page number itself is read by ``nuevonorte.safe_input.page_number``.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import request, url_for
from flask_babel import gettext as _

from nuevonorte.search.query import MAX_QUERY_CHARS

PROBLEM_MESSAGES = {
    "empty": lambda: _("Type a word or a name to search the archive."),
    "bad-filter": lambda: _("One of the filters was not valid and was left out."),
    "page-out-of-range": lambda: _("There are fewer pages of results; this is the last one."),
    "too-long": lambda: _("Your search was very long, so only its beginning was used."),
    # The address itself was too long to read (414): nothing of the search could be used.
    "too-long-to-read": lambda: _(
        "Your search is too long to read. Please search with a few words (at most %(num)d characters).",
        num=MAX_QUERY_CHARS,
    ),
}


def filter_args(names: tuple[str, ...]) -> dict[str, str]:
    """The request's non-empty arguments among the facet filter ``names``."""
    return {name: request.args.get(name, "") for name in names if request.args.get(name)}


def problem_message(problem: str | None) -> str | None:
    """Why there are no (or fewer) results, in the person's language; None when all is well."""
    return PROBLEM_MESSAGES[problem]() if problem in PROBLEM_MESSAGES else None


def page_url(endpoint: str, names: tuple[str, ...], **changes: Any) -> str:
    """The current search at ``endpoint`` with ``changes`` applied (None or "" drops an argument)."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in (*names, "q", "page")}
    args.update(changes)
    kept = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(endpoint, **kept)


def facet_label(name: str, value: str, lang: str) -> str:
    """A readable label for a facet value (theme and place names from the vocabulary)."""
    from sqlalchemy import select

    from nuevonorte.extensions import db
    from nuevonorte.models import Place, Theme

    if name == "theme":
        theme = db.session.scalar(select(Theme).where(Theme.slug == value))
        return theme.name(lang) if theme else value
    if name == "place":
        place = db.session.scalar(select(Place).where(Place.slug == value))
        return place.name(lang) if place else value
    if name == "language":
        return str({"es": _("Spanish"), "en": _("English")}.get(value, value))
    if name == "media":
        labels = {
            "text": _("Text"),
            "audio": _("Audio"),
            "image": _("Photos"),
            "transcript": _("Transcript"),
        }
        return str(labels.get(value, value))
    if name == "country":
        return country_name(value, lang)
    if name == "source":
        return source_label(value)
    return value


def source_label(value: str) -> str:
    """ "This archive", or a partner archive's name, for the ``source`` facet ("p<id>")."""
    from nuevonorte.extensions import db
    from nuevonorte.models import Partner

    if value == "here":
        return str(_("This archive"))
    partner = db.session.get(Partner, int(value[1:])) if value[1:].isdigit() else None
    return partner.name if partner is not None else str(_("A partner archive"))


def country_name(code: str, lang: str) -> str:
    """A country's name in ``lang`` from its ISO code ("mx" -> "México"), else the code."""
    return str(Locale.parse(lang).territories.get(code.upper(), code.upper()))
