"""Themes and places by the short id in an address, in either language.

A term's public address uses the visitor's language's short id (``/es/themes/trabajo``,
``/en/themes/work``). The Spanish ``slug`` stays the term's stable key: the search index, the
API and curators' filters use it; an address in the other language is answered with a
permanent redirect by the public views. Search filters accept either language's id.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from nuevonorte.extensions import db
from nuevonorte.models import Place, Theme
from nuevonorte.models.vocabulary import SLUG_LENGTH, slugify

__all__ = ["SLUG_LENGTH", "find_term", "slugify", "taken_by", "url_filters", "url_value"]

Vocabulary = type[Theme] | type[Place]

#: Search filters whose values are terms of a vocabulary.
FILTERS: dict[str, Vocabulary] = {"theme": Theme, "place": Place}


def _column(model: Vocabulary, locale: str) -> InstrumentedAttribute[str]:
    return model.slug_en if locale == "en" else model.slug


def find_term(model: Vocabulary, slug: str, locale: str) -> Theme | Place | None:
    """The term whose short id in ``locale`` is ``slug``; else the one whose id in the other
    language is (the caller redirects to its right address); else None."""
    if len(slug) > SLUG_LENGTH:
        return None
    other = "es" if locale == "en" else "en"
    for column in (_column(model, locale), _column(model, other)):
        found = cast("Theme | Place | None", db.session.scalar(select(model).where(column == slug)))
        if found is not None:
            return found
    return None


def url_filters(filters: dict[str, str], locale: str) -> dict[str, str]:
    """Search filters as the index knows them: a theme or place given by its short id in
    either language becomes its stable key; anything else is left as it came."""
    keys = dict(filters)
    for name, model in FILTERS.items():
        if name in keys:
            term = find_term(model, keys[name], locale)
            if term is not None:
                keys[name] = term.slug
    return keys


def url_value(name: str, key: str, locale: str) -> str:
    """A search filter value for an address in ``locale``: a term's key becomes its short id
    in that language; other values are left as they are."""
    model = FILTERS.get(name)
    if model is None or locale != "en":
        return key
    term = cast("Theme | Place | None", db.session.scalar(select(model).where(model.slug == key)))
    return term.slug_for(locale) if term is not None else key


def taken_by(model: Vocabulary, slug: str, term: Theme | Place | None) -> Theme | Place | None:
    """Another term of the vocabulary (not ``term``) that already answers to ``slug`` in either
    language, or None: a short id names one term only, so no address is ambiguous."""
    query = select(model).where((model.slug == slug) | (model.slug_en == slug))
    if term is not None:
        query = query.where(model.id != term.id)
    return cast("Theme | Place | None", db.session.scalar(query.limit(1)))
