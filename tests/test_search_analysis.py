"""Query analysis (issue 14, decision 0011): stop words of either language are optional,
Spanish stems see their accents, highlighting and transcript moments follow the stems, and
"did you mean" only offers queries that find something."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from nuevonorte import demo, search
from nuevonorte.extensions import db
from nuevonorte.models import Place, PlaceLevel, Story, StoryStatus
from nuevonorte.search.schema import ANALYZERS
from tests.search_fixtures import add_transcribed_audio

pytestmark = pytest.mark.usefixtures("index")


def ids(q: str, lang: str) -> set[str]:
    return {hit.public_id for hit in search.search_public(q, lang).hits}


def by_title(title: str) -> Story:
    story = db.session.scalar(db.select(Story).where((Story.title_es == title) | (Story.title_en == title)))
    assert story is not None
    return story


@pytest.fixture
def demo_archive(app: object) -> None:
    demo.load()
    db.session.commit()


# --- 2. Small words of the other language are optional -------------------------------------


@pytest.mark.usefixtures("demo_archive")
@pytest.mark.parametrize(
    "query,lang,title",
    [
        ("Ciudad de México", "en", "La panadería de mi tía"),
        ("Ciudad de México", "en", "Learning Spanish again"),
        ("El primer día en Tijuana", "en", "El primer día en Tijuana"),
        ("mi tía", "en", "La panadería de mi tía"),
        ("Ciudad de México", "es", "La panadería de mi tía"),
        ("El primer día en Tijuana", "es", "El primer día en Tijuana"),
        ("mi tía", "es", "La panadería de mi tía"),
        ("the first day in Tijuana", "es", "El primer día en Tijuana"),
        ("the first day in Tijuana", "en", "El primer día en Tijuana"),
    ],
)
def test_articles_of_either_language_are_optional(query: str, lang: str, title: str) -> None:
    assert by_title(title).public_id in ids(query, lang)


@pytest.mark.usefixtures("demo_archive")
def test_optional_words_still_rank_and_quotes_still_require() -> None:
    """Stop words count where they are indexed (as words of the other language), and a
    quoted phrase keeps every word it names."""
    tijuana = by_title("El primer día en Tijuana").public_id
    assert search.search_public("the first day in Tijuana", "es").hits[0].public_id == tijuana
    assert tijuana in ids('"the first day"', "es")
    assert tijuana not in ids('"the last day"', "es")


def test_a_query_of_stop_words_only_finds_what_holds_them(make_story: Callable[..., Story]) -> None:
    """ "son" is a Spanish stop word but an English word: alone it still finds an English story
    that says it (in the English fields, where it is indexed), not everything."""
    son = make_story(title="My son", body="My son was born in Denver.", language="en")
    other = make_story(title="Otra", body="Nada que ver.")
    found = ids("my son", "en")
    assert son.public_id in found and other.public_id not in found


# --- 3. Stems see the accents; unaccented words still meet -------------------------------


@pytest.mark.parametrize(
    "body,queries",
    [
        ("Hablo de la deportación de mi hermano.", ["deportados", "deportado", "deportacion", "deportación"]),
        ("Eran muchos los deportados aquel año.", ["deportación", "deportacion"]),
        ("Cuando vivía en Texas todo era distinto.", ["vivir", "vivimos", "vivia"]),
        ("Quería vivir cerca del mar.", ["vivía", "vivia"]),
        ("Le dije que trabajaría de noche.", ["trabajar", "trabajaria", "trabajo"]),
        ("Trabajar en el campo es duro.", ["trabajaría", "trabajaria"]),
        ("La migración de una familia entera.", ["migracion", "MIGRACIÓN", "migración"]),
        ("Los niños jugaban en la calle.", ["ninos", "niño", "NIÑOS"]),
        ("Escribo sin acentos: la deportacion de mi hermano.", ["deportacion", "deportación"]),
    ],
)
def test_spanish_stems_with_accents(make_story: Callable[..., Story], body: str, queries: list[str]) -> None:
    story = make_story(title="Un relato", body=body)
    for q in queries:
        assert story.public_id in ids(q, "es"), q
        assert story.public_id in ids(q, "en"), q


def test_accented_stems_keep_unrelated_words_apart(make_story: Callable[..., Story]) -> None:
    story = make_story(title="Un relato", body="Cuando vivía en Texas todo era distinto.")
    assert story.public_id not in ids("vivienda", "es")
    assert story.public_id not in ids("trabajaría", "es")


def test_index_holds_no_accent(app: object) -> None:
    """Stems are folded after stemming: no indexed form carries an accent."""
    for lang, analyzer in ANALYZERS.items():
        for token in analyzer("La deportación, la migración y los niños vivían aquí. Él está."):
            assert token.text.isascii(), (lang, token.text)


# --- 4. Highlights and transcript moments follow the stems --------------------------------


@pytest.mark.parametrize(
    "text,lang,query,marked",
    [
        ("My family lived in the city for years.", "en", "family", "family"),
        ("My family lived in the city for years.", "en", "families", "family"),
        ("That city was my memory of home.", "en", "cities", "city"),
        ("That city was my memory of home.", "en", "memories", "memory"),
        ("Every story has an end.", "en", "stories", "story"),
        ("Fue una experiencia difícil.", "es", "experiencias", "experiencia"),
        ("Hay una diferencia grande.", "es", "diferencias", "diferencia"),
        ("Cuando vivía en Texas.", "es", "vivir", "vivía"),
        ("Cuando vivía en Texas.", "es", "vivia", "vivía"),
        ("La deportación fue rápida.", "es", "deportados", "deportación"),
        ("The dying light of the evening.", "en", "die", "dying"),
    ],
)
def test_every_word_met_is_marked(text: str, lang: str, query: str, marked: str) -> None:
    from nuevonorte.search.highlight import Marker, snippet
    from nuevonorte.search.parse import parse

    wanted = parse(query).highlight_terms()[lang]
    assert f"<mark>{marked}</mark>" in snippet(text, Marker(wanted, lang))


def test_found_story_shows_snippet_and_link_to_the_moment(
    client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    """An audio story found by "family" shows its highlighted words and links to the cue."""
    story = make_story(
        title="Grabación",
        body="She told the story of her family every night.",
        language="en",
    )
    add_transcribed_audio(
        story,
        [
            (0, "Good evening.", False),
            (12000, "My family left the city.", False),
            (20000, "Memories.", False),
        ],
        language="en",
    )
    hit = search.search_public("family", "en").hits[0]
    assert hit.public_id == story.public_id
    assert "<mark>family</mark>" in str(hit.snippet)
    assert [c.start_seconds for c in hit.cues] == [12]
    assert "<mark>family</mark>" in str(hit.cues[0].text_html)
    data = client.get("/api/v1/search?q=cities&lang=en").get_json()
    cue = data["hits"][0]["cues"][0]
    assert cue["url"] == f"/en/stories/{story.public_id}?t=12" and "<mark>city</mark>" in cue["text"]
    assert [
        c["start_seconds"]
        for c in client.get("/api/v1/search?q=memory&lang=en").get_json()["hits"][0]["cues"]
    ] == [20]


@pytest.mark.usefixtures("demo_archive")
def test_a_cue_found_through_its_translation_links_to_the_moment() -> None:
    """The demo's Tijuana recording is in Spanish; an English visitor finds it by the cue's
    English translation and is shown that translation, marked, with its time."""
    hit = next(h for h in search.search_public("sister", "en").hits)
    assert hit.public_id == by_title("El primer día en Tijuana").public_id
    assert [c.start_seconds for c in hit.cues] == [4]
    assert "<mark>sister</mark>" in str(hit.cues[0].text_html)


@pytest.mark.usefixtures("demo_archive")
def test_only_texts_whose_field_holds_a_word_met_are_read_and_nothing_is_lost(
    monkeypatch: pytest.MonkeyPatch, make_story: Callable[..., Story]
) -> None:
    """A hit's body, summaries and cues are scanned for highlights only when the postings say
    their field holds a word met (``query._fields_met``). Every word of the archive's texts,
    searched in both languages, is highlighted exactly as when every text is scanned: in the
    demo (a recording with translated cues), a story told in a third language, and one whose
    words are only in its title, its summaries or its cues."""
    import re

    from nuevonorte.search import query
    from nuevonorte.search.schema import QUERY_FIELDS

    make_story(title="Raíces", body="Mi abuela hablaba náhuatl en el mercado.", language="nah")
    make_story(title="Ventanas abiertas", body="Nada aquí.", summary_es="Una casa amarilla.")
    make_story(title="Only the title speaks", body="Otra cosa.", summary_en="A yellow house.", language="en")
    recorded = make_story(title="Sin palabras", body="Silencio.")
    add_transcribed_audio(recorded, [(0, "El río crecía cada invierno.", False), (4000, "Crecimos.", False)])
    texts = [
        text
        for story in db.session.scalars(db.select(Story))
        for text in (story.title_es, story.title_en, story.summary_es, story.summary_en, story.body)
    ]
    texts += [cue.text + " " + (cue.translation or "") for m in recorded.media for cue in m.transcript.cues]
    words = sorted({w.lower() for text in texts for w in re.findall(r"\w{3,}", text or "")})
    assert len(words) > 200

    def every_field(search: object, terms: object, docnums: list[int]) -> list[set[str]]:
        return [set(QUERY_FIELDS) for _ in docnums]

    scanned = {"some": 0, "all": 0}
    real_snippet = query.snippet

    def counted(counter: str) -> Callable[[str, Any], str]:
        def snippet(text: str, marker: Any) -> str:
            scanned[counter] += 1
            return real_snippet(text, marker)

        return snippet

    found = 0
    for word in words:
        for lang in ("es", "en"):
            with monkeypatch.context() as scanning_some:
                scanning_some.setattr(query, "snippet", counted("some"))
                got = search.search_public(word, lang).hits
            with monkeypatch.context() as scanning_all:
                scanning_all.setattr(query, "_fields_met", every_field)
                scanning_all.setattr(query, "snippet", counted("all"))
                assert got == search.search_public(word, lang).hits, (word, lang)
            found += len(got)
    assert found > len(words)
    assert scanned["some"] < scanned["all"], scanned  # texts that cannot hold a word met are not read
    raices = search.search_public("mercado", "es").hits
    assert [h.title_es for h in raices] == ["Raíces"] and "<mark>mercado</mark>" in raices[0].snippet
    assert raices[0].snippet_lang == "nah"  # the body's own language, for the page's lang attribute
    assert "<mark>crecía</mark>" in search.search_public("crecer", "es").hits[0].cues[0].text_html


# --- 5. "Did you mean" only when it finds something ---------------------------------------


@pytest.mark.usefixtures("demo_archive")
@pytest.mark.parametrize(
    "query",
    ["<script>alert(1)</script>", "' OR 1=1 --", "1 2 3", "a a", "de la", "zzzz qqqq", "tijuanna oaxaca"],
)
def test_no_suggestion_that_finds_nothing_or_is_made_of_stop_words(client: FlaskClient, query: str) -> None:
    for lang in ("es", "en"):
        results = search.search_public(query, lang)
        assert results.suggestion is None, (query, lang, results.suggestion)
        data = client.get("/api/v1/search", query_string={"q": query, "lang": lang}).get_json()
        assert data["suggestion"] is None


@pytest.mark.usefixtures("demo_archive")
def test_suggestion_is_offered_when_it_finds_a_public_story() -> None:
    results = search.search_public("panaderya", "es")
    assert results.total == 0 and results.suggestion == "panaderia"
    assert search.search_public(results.suggestion, "es").total >= 1
    results = search.search_public("tijuanna albergue", "es")
    assert results.suggestion == "tijuana albergue"


@pytest.mark.usefixtures("demo_archive")
def test_suggestion_respects_the_filters() -> None:
    """The suggestion link keeps the filters, so it must find something with them."""
    assert search.search_public("panaderya", "es", {"place": "chicago"}).suggestion == "panaderia"
    assert search.search_public("panaderya", "es", {"place": "tijuana"}).suggestion is None


def test_suggestion_of_a_story_no_longer_public_is_not_offered(make_story: Callable[..., Story]) -> None:
    """The index can lag the database; a suggestion whose only story the database no longer
    shows is dropped, as the story itself is."""
    story = make_story(title="Hermosillo", body="Trabajé en Hermosillo.")
    assert search.search_public("hermosiyo", "es").suggestion == "hermosillo"
    # Drift: the database says private (committed without the index hooks), the index lags.
    db.session.execute(db.update(Story).where(Story.id == story.id).values(status=StoryStatus.PRIVATE))
    db.session.commit()
    assert search.search_public("hermosillo", "es").total == 0
    assert search.search_public("hermosiyo", "es").suggestion is None


def test_place_names_typed_with_articles(make_story: Callable[..., Story]) -> None:
    place = Place(
        slug="el-paso", name_es="El Paso", name_en="El Paso", country_code="US", level=PlaceLevel.CITY
    )
    db.session.add(place)
    story = make_story(title="Cruzar", body="Llegué a la ciudad una noche.", places=[place])
    assert story.public_id in ids("El Paso", "en") and story.public_id in ids("El Paso", "es")


def test_an_index_of_the_previous_analysis_is_rebuilt(make_story: Callable[..., Story]) -> None:
    """Stems changed with schema 4: an index built with schema 3 (the same fields, stems of
    folded words) is not searched, ``setup`` would rebuild it, and a rebuild finds again."""
    from nuevonorte.search import store

    story = make_story(title="Un relato", body="Cuando vivía en Texas.")
    for kind in store.KINDS:
        (store.index_path(kind).resolve() / store.SCHEMA_MARKER).write_text("3")
    store.forget_searchers()
    assert not search.index_exists()
    with pytest.raises(search.SearchUnavailable):
        search.search_public("vivir", "es")
    search.rebuild()
    assert search.index_exists() and story.public_id in ids("vivir", "es")


def test_a_stem_differs_from_its_word_in_its_last_two_letters_at_most() -> None:
    """Highlighting finds a stem's words by their beginning (``schema.STEM_REWRITE``): checked
    on every word of the archive's texts (translations, docs, demo, relevance suite) and on
    derivations whose endings Snowball rewrites, in both languages' analysers."""
    import itertools
    from pathlib import Path

    from nuevonorte.search.schema import STEM_REWRITE, TOKEN, fold

    root = Path(__file__).resolve().parent.parent
    texts = [*root.glob("translations/*/LC_MESSAGES/messages.po"), *root.glob("docs/**/*.md")]
    texts += [root / "nuevonorte" / "demo.py", root / "tests" / "relevance.py"]
    words = {m.group().lower() for path in texts for m in TOKEN.finditer(path.read_text())}
    english = ["possib", "nation", "organ", "condit", "famil", "cit", "memor", "stor", "d", "l", "hop"]
    spanish = ["deport", "migr", "viv", "trabaj", "experi", "difer", "revolu", "bio", "dic", "pid", "volv"]
    endings_en = ["y", "ies", "ied", "ying", "ility", "ibility", "ability", "ization", "ational", "ator"]
    endings_en += ["ency", "ancy", "ably", "ogy", "icity", "iveness", "iviti", "ously", "ing", "ed", "ly"]
    endings_es = ["ación", "ución", "uciones", "logía", "encia", "encias", "ía", "aría", "iríamos", "iendo"]
    endings_es += ["iéndole", "ándoselo", "aron", "ieron", "ió", "ábamos", "éis", "mente", "idad", "amiento"]
    words |= {a + b for a, b in itertools.product(english, endings_en)}
    words |= {a + b for a, b in itertools.product(spanish, endings_es)}
    assert len(words) > 2000
    for analyzer in ANALYZERS.values():
        for word in words:
            stem = analyzer.term(word)
            if stem:
                assert fold(word).startswith(stem[: max(1, len(stem) - STEM_REWRITE)]), (word, stem)


def test_fold_is_whooshs_accent_map() -> None:
    """``fold`` only sends non-ASCII runs through the accent map: the same result."""
    from whoosh.support.charset import accent_map

    from nuevonorte.search.schema import fold

    text = "".join(map(chr, range(1, 0x3000))) + " Niños MIGRACIÓN Ærø Straße ﬁn İstanbul"
    assert fold(text) == text.lower().translate(accent_map)
