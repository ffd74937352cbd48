"""OAI-PMH 2.0 at /oai (issue 17): libraries harvest the public archive, learn of every story
that leaves public view (deletedRecord=persistent) and never learn of one that was never public.
Every response is validated against the protocol's XML schemas (tests/oai_schemas.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from lxml import etree
from sqlalchemy import select

from nuevonorte import oai, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Story, StoryStatus, Theme, Visibility
from nuevonorte.models.base import today
from tests.oai_schemas import OAI, OAI_DC, validate

MakeStory = Callable[..., Story]
NS = {"o": OAI, "oai_dc": OAI_DC, "dc": "http://purl.org/dc/elements/1.1/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def ask(client: FlaskClient, method: str = "GET", **args: str) -> etree._Element:
    """One OAI-PMH request; the answer, validated against the schemas."""
    if method == "POST":
        response = client.post("/oai", data=args)
    else:
        response = client.get("/oai", query_string=args)
    assert response.status_code == 200 and response.content_type == "text/xml; charset=utf-8"
    return validate(response.data)


def error_code(document: etree._Element) -> str | None:
    found = document.find("o:error", NS)
    return None if found is None else found.get("code")


def identifier(story: Story) -> str:
    return f"oai:localhost:{story.public_id}"


def harvest(client: FlaskClient, verb: str = "ListIdentifiers", **args: str) -> list[tuple[str, bool]]:
    """Every header of a complete list, following resumption tokens: (identifier, deleted)."""
    found: list[tuple[str, bool]] = []
    document = ask(client, verb=verb, metadataPrefix="oai_dc", **args)
    while True:
        if error_code(document) == "noRecordsMatch":
            return found
        assert error_code(document) is None, etree.tostring(document)
        for header in document.iter(f"{{{OAI}}}header"):
            found.append(
                (header.findtext("o:identifier", namespaces=NS) or "", header.get("status") == "deleted")
            )
        token = document.findtext(f"o:{verb}/o:resumptionToken", namespaces=NS)
        if not token:
            return found
        document = ask(client, verb=verb, resumptionToken=token)


def test_identify_says_deleted_records_are_persistent_and_days_are_the_granularity(
    client: FlaskClient,
) -> None:
    document = ask(client, verb="Identify")
    identify = document.find("o:Identify", NS)
    assert identify is not None
    assert identify.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DD"
    assert identify.findtext("o:baseURL", namespaces=NS) == "http://localhost/oai"
    assert (
        ask(client, "POST", verb="Identify").find("o:Identify", NS) is not None
    )  # POST, without a form token


def test_a_harvest_names_public_stories_announces_the_ones_that_left_and_never_names_the_others(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """Public: a record. Withdrawn, narrowed to curators, hidden by a curator after publishing: a
    deleted header. Never public (submitted, private, published under an embargo still running,
    withdrawn before anyone saw it): nothing at all, not even as deleted, and GetRecord says
    idDoesNotExist (C01, C05)."""
    public = make_story(title="Visible")
    withdrawn = make_story()
    narrowed = make_story()
    hidden = make_story()
    never = [
        make_story(StoryStatus.SUBMITTED),
        make_story(StoryStatus.PRIVATE),
        make_story(embargo_until=today() + timedelta(days=30)),
        make_story(StoryStatus.WITHDRAWN),
    ]
    stories.withdraw(withdrawn)
    stories.change_consent(
        narrowed, ConsentChoices(visibility=Visibility.CURATORS, credit_name="Ana"), language="es"
    )
    stories.unpublish(hidden, None)
    db.session.commit()

    listed = dict(harvest(client))
    assert listed == {
        identifier(public): False,
        identifier(withdrawn): True,
        identifier(narrowed): True,
        identifier(hidden): True,
    }
    assert dict(harvest(client, "ListRecords")) == listed
    for story in never:
        document = ask(client, verb="GetRecord", identifier=identifier(story), metadataPrefix="oai_dc")
        assert error_code(document) == "idDoesNotExist"
    gone = ask(client, verb="GetRecord", identifier=identifier(withdrawn), metadataPrefix="oai_dc")
    header = gone.find("o:GetRecord/o:record/o:header", NS)
    assert header is not None and header.get("status") == "deleted"
    assert gone.find("o:GetRecord/o:record/o:metadata", NS) is None


def test_an_embargo_that_ends_brings_the_story_in_dated_the_day_it_ended(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """No write happens when an embargo ends: the record was kept with the day it would start,
    so a harvest from that day finds it, and none before it does."""
    ends = today() + timedelta(days=10)
    story = make_story(embargo_until=ends)
    assert harvest(client) == []
    with freeze_time(ends):
        assert harvest(client) == [(identifier(story), False)]
        assert harvest(client, **{"from": ends.isoformat()}) == [(identifier(story), False)]
        assert harvest(client, until=(ends - timedelta(days=1)).isoformat()) == []


def test_a_record_is_simple_dublin_core_in_both_languages(client: FlaskClient, make_story: MakeStory) -> None:
    theme = Theme(slug="llegada", name_es="Llegada", name_en="Arrival")
    story = make_story(
        title="La noche que llegamos", title_en="The night we arrived", summary_en="How we came."
    )
    story.themes.append(theme)
    db.session.commit()
    document = ask(client, verb="GetRecord", identifier=identifier(story), metadataPrefix="oai_dc")
    dc = document.find("o:GetRecord/o:record/o:metadata/oai_dc:dc", NS)
    assert dc is not None
    titles = {t.get(XML_LANG): t.text for t in dc.findall("dc:title", NS)}
    assert titles == {"es": "La noche que llegamos", "en": "The night we arrived"}
    assert {s.text for s in dc.findall("dc:subject", NS)} == {"Llegada", "Arrival"}
    assert dc.findtext("dc:creator", namespaces=NS) == "Ana"
    urls = [i.text for i in dc.findall("dc:identifier", NS)]
    assert urls == [f"http://localhost/s/{story.public_id}"]  # the persistent address
    english = client.get(f"/s/{story.public_id}", headers={"Accept-Language": "en"})
    assert english.status_code == 302 and english.location == f"/en/stories/{story.public_id}"
    header = document.find("o:GetRecord/o:record/o:header", NS)
    assert header is not None and header.findtext("o:setSpec", namespaces=NS) == "theme:llegada"
    assert harvest(client, set="theme:llegada") == [(identifier(story), False)]


def test_a_story_withdrawn_mid_harvest_neither_shifts_nor_repeats_what_follows(
    client: FlaskClient, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 3 over 8 stories: after the first page, one story already sent and one not yet
    sent are withdrawn; the harvest still names each story exactly once, the second as deleted."""
    monkeypatch.setattr(oai, "PAGE", 3)
    made = [make_story(title=f"Relato {i}") for i in range(8)]
    first = ask(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    sent = [h.text for h in first.iterfind("o:ListIdentifiers/o:header/o:identifier", NS)]
    assert sent == [identifier(s) for s in made[:3]]
    stories.withdraw(made[1])
    stories.withdraw(made[5])
    db.session.commit()
    token = first.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    assert token
    rest: list[tuple[str, bool]] = []
    document = ask(client, verb="ListIdentifiers", resumptionToken=token)
    while True:
        for header in document.iter(f"{{{OAI}}}header"):
            rest.append(
                (header.findtext("o:identifier", namespaces=NS) or "", header.get("status") == "deleted")
            )
        token = document.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
        if not token:
            break
        document = ask(client, verb="ListIdentifiers", resumptionToken=token)
    assert rest == [(identifier(s), s is made[5]) for s in made[3:]]


BAD: list[tuple[dict[str, Any], str]] = [
    ({}, "badVerb"),
    ({"verb": "Harvest"}, "badVerb"),
    ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-13-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01T00:00:00Z"}, "badArgument"),
    (
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-01", "until": "2026-01-01"},
        "badArgument",
    ),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "city:tijuana"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"}, "badArgument"),
    (
        {"verb": "GetRecord", "identifier": "oai:localhost:nothing", "metadataPrefix": "oai_dc"},
        "idDoesNotExist",
    ),
    ({"verb": "GetRecord", "identifier": "<script>", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
    ({"verb": "ListSets"}, "noSetHierarchy"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "noRecordsMatch"),
]


@pytest.mark.parametrize(("args", "code"), BAD)
def test_bad_requests_get_the_protocols_own_errors_never_a_500(
    client: FlaskClient, args: dict[str, Any], code: str
) -> None:
    """Bad verbs, arguments, dates, formats and tokens: the protocol's error, valid against its
    schema, with the request echoed without attributes for badVerb and badArgument."""
    document = ask(client, **args)
    assert error_code(document) == code
    if code in ("badVerb", "badArgument"):
        request = document.find("o:request", NS)
        assert request is not None and not request.attrib


def test_a_repeated_argument_is_bad(client: FlaskClient) -> None:
    response = client.get("/oai?verb=Identify&verb=Identify")
    assert error_code(validate(response.data)) == "badArgument"


def test_a_token_that_was_tampered_with_expired_or_belongs_to_another_verb_is_refused(
    client: FlaskClient, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oai, "PAGE", 1)
    for i in range(3):
        make_story(title=f"Relato {i}")
    token = ask(client, verb="ListIdentifiers", metadataPrefix="oai_dc").findtext(
        "o:ListIdentifiers/o:resumptionToken", namespaces=NS
    )
    assert token
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert error_code(ask(client, verb="ListIdentifiers", resumptionToken=tampered)) == "badResumptionToken"
    assert error_code(ask(client, verb="ListRecords", resumptionToken=token)) == "badResumptionToken"
    with freeze_time(date.today() + timedelta(days=oai.TOKEN_DAYS + 1)):
        assert error_code(ask(client, verb="ListIdentifiers", resumptionToken=token)) == "badResumptionToken"
    assert error_code(ask(client, verb="ListIdentifiers", resumptionToken=token)) is None


def test_a23_hostile_arguments_are_refused_and_change_nothing(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """Markup, invalid UTF-8 and a megabyte of text in any argument, by GET and POST: a protocol
    error, valid against the schema, never a 500. Two limits hold before the protocol is read,
    as on every route: a NUL anywhere is a 400 (A23), and a request line past 8 KB a 414."""
    story = make_story()
    before = harvest(client)
    for value in ["<oai>&amp;", "oai:localhost:" + story.public_id + "<", "x" * 1_000_000]:
        for method in ("GET", "POST"):
            for args in (
                {"verb": value},
                {"verb": "GetRecord", "identifier": value, "metadataPrefix": "oai_dc"},
                {"verb": "ListRecords", "resumptionToken": value},
                {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": value},
            ):
                if method == "GET" and len(value) > 8192:
                    assert client.get("/oai", query_string=args).status_code == 414
                    continue
                assert error_code(ask(client, method, **args)) is not None
    for method in (client.get, client.post):
        assert method("/oai", query_string={"verb": "Identify\x00"}).status_code == 400
    assert error_code(validate(client.get("/oai?verb=Identify&metadataPrefix=%FF%FE").data)) == "badArgument"
    assert harvest(client) == before


def test_a_first_record_made_twice_updates_the_row_and_never_forgets_the_story_was_shown(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """Two transactions that both believe they make a story's first public record (possible on
    PostgreSQL): the second updates the first's row, and a story that was shown stays shown."""
    from nuevonorte import publication
    from nuevonorte.models import PublicRecord

    story = make_story()
    stories.withdraw(story)
    db.session.commit()
    later = {"visible_from": None, "was_public": False, "datestamp": today()}
    publication._first_record(db.session(), story, later)  # as if it had not seen the row
    db.session.commit()
    rows = db.session.scalars(select(PublicRecord).where(PublicRecord.story_id == story.id)).all()
    assert [(r.was_public, r.visible_from) for r in rows] == [(True, None)]
    assert dict(harvest(client)) == {identifier(story): True}


def test_sets_show_only_what_the_narrator_allows_and_every_story_that_left(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """A collection set holds its stories whose narrator allows collections (a narrator who later
    says no leaves it), and its headers carry the collection; ListSets names no theme that only
    hidden stories use (its name alone can say too much); a story withdrawn from a theme it was
    harvested under is still announced to that theme's harvesters, as deleted."""
    from nuevonorte.models import Collection, CollectionEntry, CollectionStatus, EntryKind

    shown_theme = Theme(slug="llegada", name_es="Llegada", name_en="Arrival")
    hidden_theme = Theme(slug="deportacion-de-maria", name_es="Secreto", name_en="Secret")
    stays, leaves, gone = make_story(), make_story(), make_story()
    stays.themes.append(shown_theme)
    gone.themes.append(shown_theme)
    unseen = make_story(StoryStatus.SUBMITTED)
    unseen.themes.append(hidden_theme)
    collection = Collection(status=CollectionStatus.PUBLISHED, title_es="Viajes", title_en="Journeys")
    collection.entries = [
        CollectionEntry(kind=EntryKind.STORY, story=story, position=i)
        for i, story in enumerate((stays, leaves))
    ]
    db.session.add(collection)
    db.session.commit()
    spec = f"collection:{collection.public_id}"
    assert harvest(client, set=spec) == [(identifier(stays), False), (identifier(leaves), False)]
    stories.change_consent(leaves, ConsentChoices(credit_name="Ana", in_collections=False), language="es")
    stories.withdraw(gone)
    db.session.commit()
    assert harvest(client, set=spec) == [(identifier(stays), False), (identifier(gone), True)]
    header = ask(client, verb="GetRecord", identifier=identifier(stays), metadataPrefix="oai_dc").find(
        "o:GetRecord/o:record/o:header", NS
    )
    assert header is not None
    assert [s.text for s in header.findall("o:setSpec", NS)] == ["theme:llegada", spec]
    sets = [s.text for s in ask(client, verb="ListSets").iterfind("o:ListSets/o:set/o:setSpec", NS)]
    assert sets == ["theme:llegada", spec]
    assert harvest(client, set="theme:llegada") == [(identifier(stays), False), (identifier(gone), True)]


def test_a_story_embargoed_again_leaves_on_the_day_of_the_change_and_returns_when_it_ends(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """A harvest of today's changes learns at once that a public story was embargoed again (its
    deleted header is dated today, not the embargo's end); the day the embargo ends, a harvest
    of that day's changes finds it back."""
    story = make_story()
    ends = today() + timedelta(days=30)
    stories.change_consent(story, ConsentChoices(credit_name="Ana", embargo_until=ends), language="es")
    db.session.commit()
    day = today().isoformat()
    assert harvest(client, **{"from": day, "until": day}) == [(identifier(story), True)]
    with freeze_time(ends):
        assert harvest(client, **{"from": ends.isoformat()}) == [(identifier(story), False)]


def test_identify_dates_only_what_may_be_named(client: FlaskClient, make_story: MakeStory) -> None:
    """An embargoed story no one has seen yet does not date the repository (earliestDatestamp)."""
    with freeze_time(today() - timedelta(days=40)):
        make_story(embargo_until=today() + timedelta(days=400))
    make_story()
    identify = ask(client, verb="Identify").find("o:Identify", NS)
    assert (
        identify is not None
        and identify.findtext("o:earliestDatestamp", namespaces=NS) == today().isoformat()
    )


@pytest.mark.parametrize(
    "args",
    [
        {"verb": "GetRecord", "identifier": "oai:x\x01y", "metadataPrefix": "oai_dc"},
        {"verb": "Identify", "\x01": "x"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc\x02"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-W01-1"},
    ],
)
def test_characters_xml_cannot_carry_and_week_dates_are_bad_arguments(
    client: FlaskClient, args: dict[str, str]
) -> None:
    """Control characters in a name or value would make the answer unreadable XML if echoed: the
    request is refused whole, and nothing of it is echoed."""
    assert error_code(ask(client, **args)) == "badArgument"
