"""Bilingual matching on a real Whoosh index: stemming, accent folding, cross-language fields."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from nuevonorte import search
from nuevonorte.extensions import db
from nuevonorte.models import Story

pytestmark = pytest.mark.usefixtures("index")

DEPORTADO = (
    "Me deportaron en 2009 desde Phoenix. Crucé la frontera otra vez para ver a mis niños.\n\n"
    "Mi familia quedó separada durante tres años; yo era un deportado más en Tijuana."
)
RETURN_EN = (
    "I was deported from Texas when I was nineteen, after the deportation hearing.\n\n"
    "Coming back to Guadalajara, the city I had left as a child, felt like starting over."
)


def ids(results: search.SearchResults) -> set[str]:
    return {hit.public_id for hit in results.hits}


def test_spanish_inflection_and_accents(make_story: Callable[..., Story]) -> None:
    story = make_story(
        title="Un deportado en Tijuana", body=DEPORTADO, summary_es="La migración de una familia."
    )
    for q in (
        "deportados",
        "deportado",
        "migración",
        "migracion",
        "MIGRACIÓN",
        "niños",
        "ninos",
        "familia separada",
    ):
        assert story.public_id in ids(search.search_public(q, "es")), q


def test_english_inflection(make_story: Callable[..., Story]) -> None:
    story = make_story(title="Back to Guadalajara", body=RETURN_EN, language="en")
    for q in ("deported", "deportation", "deport", "comes back cities", "hearings"):
        assert story.public_id in ids(search.search_public(q, "en")), q


def test_english_query_finds_spanish_story_through_translation(make_story: Callable[..., Story]) -> None:
    """An English visitor finds a Spanish-only story through its English summary and title."""
    story = make_story(
        title="Familia separada",
        body=DEPORTADO,
        title_en="A separated family",
        summary_en="A father deported to Tijuana waits years to see his children again.",
    )
    other = make_story(title="Otra historia", body="Trabajé en el campo toda mi vida.")
    found = search.search_public("deported father", "en")
    assert story.public_id in ids(found)
    assert other.public_id not in ids(found)
    assert story.public_id in ids(search.search_public("children", "en"))


def test_spanish_query_finds_english_story_through_translation(make_story: Callable[..., Story]) -> None:
    story = make_story(
        title="Back home", body=RETURN_EN, language="en", summary_es="Un regreso a Guadalajara."
    )
    assert story.public_id in ids(search.search_public("regresó", "es"))


def test_theme_names_in_both_languages(make_story: Callable[..., Story]) -> None:
    from nuevonorte.models import Theme

    theme = Theme(slug="retorno", name_es="Retorno", name_en="Return")
    db.session.add(theme)
    story = make_story(title="Volver", body="Volví a mi pueblo después de veinte años.", themes=[theme])
    assert story.public_id in ids(search.search_public("return", "en"))
    assert story.public_id in ids(search.search_public("retorno", "es"))
    facets = dict(search.search_public("volver", "es").facets["theme"])
    assert facets == {"retorno": 1}


def test_title_ranks_above_body(make_story: Callable[..., Story]) -> None:
    in_body = make_story(title="Una historia", body="Hablo de Tijuana solo una vez aquí, de pasada.")
    in_title = make_story(title="Tijuana", body="Una ciudad de paso para mucha gente.")
    hits = search.search_public("tijuana", "es").hits
    assert [h.public_id for h in hits] == [in_title.public_id, in_body.public_id]


def test_renaming_a_theme_reindexes_its_stories(make_story: Callable[..., Story]) -> None:
    """Vocabulary changes reach the index through the session hooks, with no explicit call."""
    from nuevonorte.models import Theme

    theme = Theme(slug="trabajo", name_es="Trabajo", name_en="Work")
    db.session.add(theme)
    story = make_story(title="En el campo", body="Pizcamos fresa en California.", themes=[theme])
    assert story.public_id not in ids(search.search_public("labor", "en"))
    theme.name_en = "Labor"
    db.session.commit()
    assert story.public_id in ids(search.search_public("labor", "en"))


def test_phrase_in_story_text(make_story: Callable[..., Story]) -> None:
    """Quoted words must follow each other (looked up in the positional twin of the story
    text, which the word search does not read: docs/parts/search.md)."""
    story = make_story(title="Una historia", body=DEPORTADO)
    assert story.public_id in ids(search.search_public('"familia quedó separada"', "es"))
    assert story.public_id in ids(search.search_public('"familias quedaron separadas"', "es"))  # stems
    assert story.public_id not in ids(search.search_public('"familia separada"', "es"))
    assert story.public_id not in ids(search.search_public('"separada quedó familia"', "es"))
    assert story.public_id in ids(search.search_public("separada familia", "es"))  # words, any order
