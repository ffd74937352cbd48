"""Citing a public story: a line in each language, BibTeX read back by a real BibTeX parser and
CSL-JSON read and formatted by a real CSL processor; only what the public page shows; and the
story's links to the published collections that show it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import bibtexparser
import pytest
from bibtexparser import middlewares
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from flask.testing import FlaskClient
from pylatexenc.latex2text import LatexNodes2Text

from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Collection, CollectionEntry, CollectionStatus, Credit, EntryKind, Story
from nuevonorte.models.base import today
from nuevonorte.public.content import month_year

BIB_TYPE = "application/x-bibtex; charset=utf-8"
CSL_TYPE = "application/vnd.citationstyles.csl+json; charset=utf-8"
#: Every character with a meaning in BibTeX or LaTeX, quotes and accents.
AWKWARD_TITLE = 'Pan, 50% & {llaves} \\ #1 $2 a_b ~ ^ "comillas" @ ñandú'


@pytest.fixture
def cited(make_story: Callable[..., Story]) -> Story:
    return make_story(
        choices=ConsentChoices(credit=Credit.PSEUDONYM, credit_name="Rosa M."),
        title="La panadería de mi tía",
        title_en="My aunt's bakery",
        body="Cuando regresé fui a la panadería.\n\nUn pasaje retenido.",
        restricted_paragraphs="1",
    )


def _entry(text: str) -> dict[str, Any]:
    """The one entry of a BibTeX text as a real parser reads it: names split into their parts
    (as BibTeX styles split them), every other field LaTeX-decoded but the address, which BibTeX
    styles print verbatim (``\\url``): decoded, a public id's "--" would read as a dash."""
    library = bibtexparser.parse_string(
        text,
        append_middleware=[
            middlewares.SeparateCoAuthors(),
            middlewares.SplitNameParts(),
            middlewares.LatexDecodingMiddleware(),
        ],
    )
    assert library.failed_blocks == [], library.failed_blocks
    assert len(library.entries) == 1
    entry = library.entries[0]
    verbatim = bibtexparser.parse_string(text).entries[0]
    entry.set_field(bibtexparser.model.Field("url", verbatim["url"]))
    return {"key": entry.key, "type": entry.entry_type, **{f.key: f.value for f in entry.fields}}


def _one_name(entry: dict[str, Any]) -> str:
    """The entry's author, checked to be one name that BibTeX keeps whole, as it prints."""
    (name,) = entry["author"]
    assert name.first == name.von == name.jr == [] and len(name.last) == 1, name
    return str(LatexNodes2Text().latex_to_text(name.last[0]))


def _bibliography(items: list[dict]) -> str:
    """The items formatted by citeproc-py with the Harvard style it ships with (plain text)."""
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem(items[0]["id"])]))
    return "\n".join(str(line) for line in bibliography.bibliography())


@pytest.mark.parametrize(
    ("lang", "title", "line"),
    [
        ("en", "My aunt's bakery", "a story told to the Nuevo Norte archive"),
        ("es", "La panadería de mi tía", "una historia contada al archivo Nuevo Norte"),
    ],
)
def test_the_story_page_says_how_to_cite_it(
    client: FlaskClient, cited: Story, lang: str, title: str, line: str
) -> None:
    page = client.get(f"/{lang}/stories/{cited.public_id}").get_data(as_text=True)
    url = f"http://localhost/s/{cited.public_id}"
    assert 'id="cite-heading"' in page
    citation = page.split('<p class="citation">', 1)[1].split("</p>", 1)[0]
    assert "Rosa M." in citation and url in citation
    assert title.replace("'", "&#39;") in citation
    if lang == "en":  # the Spanish line waits for the catalogs to be merged
        assert line in citation
        assert f"Rosa M., “My aunt&#39;s bakery”, {line} (" in citation
    assert f'href="/{lang}/stories/{cited.public_id}/cite.bib"' in page
    assert f'href="/{lang}/stories/{cited.public_id}/cite.json"' in page
    assert "@misc{nuevonorte-" in page and "&#34;type&#34;: &#34;interview&#34;" in page


def test_bibtex_is_read_back_by_a_real_parser(client: FlaskClient, cited: Story) -> None:
    response = client.get(f"/en/stories/{cited.public_id}/cite.bib")
    assert response.status_code == 200 and response.headers["Content-Type"] == BIB_TYPE
    entry = _entry(response.get_data(as_text=True))
    published = cited.published_on
    assert published is not None
    assert entry["key"] == f"nuevonorte-{cited.public_id}" and entry["type"] == "misc"
    assert _one_name(entry) == "Rosa M."  # never split into given and family names
    assert entry["title"] == "My aunt's bakery"
    assert entry["year"] == str(published.year)
    assert entry["url"] == f"http://localhost/s/{cited.public_id}"
    assert entry["urldate"] == today().isoformat()
    spanish = _entry(client.get(f"/es/stories/{cited.public_id}/cite.bib").get_data(as_text=True))
    assert spanish["title"] == "La panadería de mi tía"
    assert spanish["url"] == f"http://localhost/s/{cited.public_id}"


def test_an_id_with_two_hyphens_reads_back_as_an_address_to_the_same_page(
    client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    """A public id may hold "--" (one in about 250): the address reads back whole."""
    story = make_story(title="Guiones", public_id="Ab--cdEF---hijk_")
    entry = _entry(client.get(f"/en/stories/{story.public_id}/cite.bib").get_data(as_text=True))
    assert entry["url"] == "http://localhost/s/Ab--cdEF---hijk_"


def test_bibtex_writes_every_special_character_so_it_reads_back_as_written(
    client: FlaskClient, make_story: Callable[..., Story]
) -> None:
    story = make_story(
        choices=ConsentChoices(credit=Credit.NAME, credit_name="Ana {de} la Cruz & Hijos"),
        title=AWKWARD_TITLE,
        title_en=AWKWARD_TITLE + "\nsecond line",
    )
    text = client.get(f"/en/stories/{story.public_id}/cite.bib").get_data(as_text=True)
    entry = _entry(text)
    # pylatexenc reads LaTeX's \textasciicircum as the modifier letter circumflex (U+02C6).
    assert entry["title"].replace("\u02c6", "^") == AWKWARD_TITLE + " second line"
    assert _one_name(entry) == "Ana {de} la Cruz & Hijos"
    assert set(entry) >= {"year", "month", "url", "urldate", "howpublished"}  # nothing swallowed


def test_csl_json_is_read_and_formatted_by_a_real_csl_processor(client: FlaskClient, cited: Story) -> None:
    response = client.get(f"/en/stories/{cited.public_id}/cite.json")
    assert response.status_code == 200 and response.headers["Content-Type"] == CSL_TYPE
    items = json.loads(response.get_data(as_text=True))
    published = cited.published_on
    assert published is not None
    assert items == [
        {
            "id": f"nuevonorte-{cited.public_id}",
            "type": "interview",
            "title": "My aunt's bakery",
            "author": [{"literal": "Rosa M."}],
            "issued": {"date-parts": [[published.year, published.month]]},
            "accessed": {"date-parts": [[today().year, today().month, today().day]]},
            "archive": "Nuevo Norte archive",
            "language": "es",
            "URL": f"http://localhost/s/{cited.public_id}",
        }
    ]
    text = _bibliography(items)  # pytest turns citeproc's warnings on unknown fields into errors
    assert "Rosa M." in text and "My aunt's bakery" in text and str(published.year) in text
    assert f"http://localhost/s/{cited.public_id}" in text


def test_an_anonymous_story_is_cited_without_any_name(client: FlaskClient, make_story) -> None:
    # The record still holds a name the narrator once typed; anonymous means it is never shown.
    story = make_story(
        choices=ConsentChoices(credit=Credit.ANONYMOUS, credit_name="María Secreta"), title="Sin nombre"
    )
    base = f"/en/stories/{story.public_id}"
    page = client.get(base).get_data(as_text=True)
    bib = client.get(f"{base}/cite.bib").get_data(as_text=True)
    csl = client.get(f"{base}/cite.json").get_data(as_text=True)
    for text in (page, bib, csl):
        assert "María" not in text and "Secreta" not in text
    assert "a story told anonymously to the Nuevo Norte archive" in page
    assert "author" not in _entry(bib)
    items = json.loads(csl)
    assert "author" not in items[0]
    assert "Sin nombre" in _bibliography(items)


def test_a_citation_holds_nothing_the_page_does_not_show(client: FlaskClient, cited: Story) -> None:
    for suffix in ("cite.bib", "cite.json"):
        text = client.get(f"/en/stories/{cited.public_id}/{suffix}").get_data(as_text=True)
        assert "pasaje retenido" not in text and "Cuando regresé" not in text
        assert str(cited.submitted_on) not in text or cited.submitted_on == today()
        published = cited.published_on
        assert published is not None
        # the day of publication is not shown publicly, only its month and year
        assert published.isoformat() not in text or published == today()


def test_an_untitled_story_and_a_title_only_in_the_other_language(client: FlaskClient, make_story) -> None:
    story = make_story(title="", title_en="")
    assert _entry(client.get(f"/en/stories/{story.public_id}/cite.bib").get_data(as_text=True))["title"] == (
        "Untitled story"
    )
    spanish_only = make_story(title="Solo en español")
    items = client.get(f"/en/stories/{spanish_only.public_id}/cite.json").get_json()
    assert items[0]["title"] == "Solo en español"


def test_the_date_is_the_month_and_year_shown_on_the_page(client: FlaskClient, make_story, app) -> None:
    story = make_story(published_on=date(2025, 11, 3))
    # make_story publishes after setting fields; the day it keeps is the one the page shows.
    published = story.published_on
    assert published is not None
    page = client.get(f"/en/stories/{story.public_id}").get_data(as_text=True)
    with app.test_request_context("/en/"):
        from flask import g

        g.lang = "en"
        shown = month_year(published)
    citation = page.split('<p class="citation">', 1)[1].split("</p>", 1)[0]
    assert f"({shown})" in citation
    entry = _entry(client.get(f"/en/stories/{story.public_id}/cite.bib").get_data(as_text=True))
    assert entry["year"] == str(published.year)


# --- the collections a story is in ---------------------------------------------------------


def _collection(
    title: str, story: Story, status: CollectionStatus = CollectionStatus.PUBLISHED
) -> Collection:
    collection = Collection(
        title_es=title,
        title_en=title + " (en)",
        status=status,
        published_on=today() if status == CollectionStatus.PUBLISHED else None,
        entries=[
            CollectionEntry(position=0, kind=EntryKind.TEXT, text_es="Intro", text_en="Intro"),
            CollectionEntry(position=1, kind=EntryKind.STORY, story=story),
        ],
    )
    db.session.add(collection)
    db.session.commit()
    return collection


def test_a_story_links_to_the_published_collections_that_show_it(
    client: FlaskClient, cited: Story, make_story
) -> None:
    shown = _collection("Regresar", cited)
    draft = _collection("Borrador", cited, CollectionStatus.DRAFT)
    other = _collection("Otra", make_story(title="Otra historia"))
    for lang, title in (("es", "Regresar"), ("en", "Regresar (en)")):
        page = client.get(f"/{lang}/stories/{cited.public_id}").get_data(as_text=True)
        assert f'<a href="/{lang}/collections/{shown.public_id}">{title}</a>' in page
        assert draft.public_id not in page and other.public_id not in page
        assert "Borrador" not in page


def test_no_collection_link_when_the_narrator_keeps_the_story_out_of_collections(
    client: FlaskClient, make_story
) -> None:
    story = make_story(choices=ConsentChoices(credit_name="Ana", in_collections=False))
    collection = _collection("Regresar", story)
    page = client.get(f"/en/stories/{story.public_id}").get_data(as_text=True)
    assert collection.public_id not in page and 'id="collections-heading"' not in page
