"""OAI-PMH 2.0 at ``/oai``: how libraries and partner archives harvest the public archive.

Every record is a public story, re-checked against the consent rule when it is asked for; a
story that was public and no longer is (withdrawn, narrowed, hidden) is a deleted header for as
long as the archive runs (``deletedRecord=persistent``); a story that was never public is never
named, not even as deleted (``nuevonorte.publication`` keeps which is which). Datestamps are
days. A list is paged by a resumption token that holds the harvest's arguments and the last
record's place in the stable order of ``public_record``, signed with the archive's key: it
needs no state on the server, and a story withdrawn mid-harvest neither shifts nor repeats
what comes after it. Errors are the protocol's own, with HTTP 200 as the protocol asks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from nuevonorte import consent, publication, term_counts
from nuevonorte.extensions import csrf, db
from nuevonorte.models import (
    Collection,
    CollectionEntry,
    ConsentRecord,
    EntryKind,
    PublicRecord,
    Story,
    Theme,
)
from nuevonorte.models.base import today, utcnow
from nuevonorte.models.media import DCMI_TYPE
from nuevonorte.models.vocabulary import story_theme
from nuevonorte.public.address import base_url
from nuevonorte.public.persistent import story_url

bp = Blueprint("oai", __name__)

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
for _prefix, _uri in (("", OAI), ("oai_dc", OAI_DC), ("dc", DC), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)

#: The one metadata format: (prefix, schema, namespace).
FORMATS = {"oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC)}
#: Records (or headers, or sets) per response.
PAGE = 100
#: How long a resumption token is honoured: a harvest that pauses longer starts again.
TOKEN_DAYS = 7
#: The arguments each verb takes: required, optional, exclusive (resumptionToken).
VERBS: dict[str, tuple[set[str], set[str], bool]] = {
    "Identify": (set(), set(), False),
    "ListMetadataFormats": (set(), {"identifier"}, False),
    "ListSets": (set(), set(), True),
    "GetRecord": ({"identifier", "metadataPrefix"}, set(), False),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}, True),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}, True),
}
#: What a record reads of each story, loaded for a whole page at once (not story by story).
WITH_RECORD = (
    selectinload(Story.consents),
    selectinload(Story.themes),
    selectinload(Story.places),
    selectinload(Story.media),
)
#: Characters XML 1.0 cannot carry: an argument holding one is refused, never echoed.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: A day, as the protocol writes it (``date.fromisoformat`` alone also takes week dates).
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: What sets are made of: a theme (by its Spanish short id) or a published collection.
SET_KINDS = ("theme", "collection")


class OaiError(Exception):
    """One of the protocol's error conditions."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Harvest:
    """A list request's arguments, and where its next page starts (a resumption token)."""

    verb: str
    prefix: str = "oai_dc"
    set: str = ""
    start: str = ""  # from, as YYYY-MM-DD
    until: str = ""
    after: int = 0  # the last public_record id already sent
    cursor: int = 0  # how many were sent before this page


@bp.route("/oai", methods=["GET", "POST"])
@csrf.exempt  # a harvester's POST carries no form token; nothing here changes anything
def endpoint() -> Response:
    args = request.form if request.method == "POST" else request.args
    root = ET.Element(f"{{{OAI}}}OAI-PMH")
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    ET.SubElement(root, f"{{{OAI}}}responseDate").text = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    echo = ET.SubElement(root, f"{{{OAI}}}request")
    echo.text = base_url() + "/oai"
    try:
        verb, values = _arguments(args)
        for name, value in values.items():
            echo.set(name, value)
        echo.set("verb", verb)
        root.append(_answer(verb, values))
    except OaiError as error:
        failure = ET.SubElement(root, f"{{{OAI}}}error", code=error.code)
        failure.text = error.message
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, content_type="text/xml; charset=utf-8")


# --- arguments ----------------------------------------------------------------------------


def _arguments(args: Any) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, or the error the protocol names for them."""
    if any(len(args.getlist(name)) > 1 for name in args):
        raise OaiError("badArgument", "An argument is repeated.")
    if any(NOT_XML.search(name) or NOT_XML.search(args[name]) for name in args):
        raise OaiError("badArgument", "An argument holds a character XML cannot carry.")
    verb = args.get("verb", "")
    if verb not in VERBS:
        raise OaiError("badVerb", "The verb is missing or is not one of OAI-PMH 2.0's six.")
    required, optional, resumable = VERBS[verb]
    values = {name: args[name] for name in args if name != "verb"}
    allowed = required | optional | ({"resumptionToken"} if resumable else set())
    if set(values) - allowed:
        raise OaiError("badArgument", f"{verb} was sent an argument it does not take.")
    if "resumptionToken" in values:
        if len(values) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument.")
    elif required - set(values):
        raise OaiError("badArgument", f"{verb} needs: {', '.join(sorted(required - set(values)))}.")
    if "set" in values and values["set"].partition(":")[0] not in SET_KINDS:
        raise OaiError("badArgument", "Sets are named theme:… or collection:… (see ListSets).")
    days = {name: _day(values[name]) for name in ("from", "until") if name in values}
    if len(days) == 2 and days["from"] > days["until"]:
        raise OaiError("badArgument", "from is later than until.")
    return verb, values


def _day(value: str) -> date:
    """A datestamp argument: this repository's granularity is the day (YYYY-MM-DD)."""
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise OaiError("badArgument", "A date is not a day written YYYY-MM-DD.") from None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oai-resumption")


def _token(harvest: Harvest) -> str:
    return _serializer().dumps(asdict(harvest))


def _resume(verb: str, token: str) -> Harvest:
    try:
        data = _serializer().loads(token, max_age=TOKEN_DAYS * 86400)
        harvest = Harvest(**data)
    except (BadSignature, TypeError, ValueError):
        raise OaiError("badResumptionToken", "The resumption token is not valid or has expired.") from None
    if harvest.verb != verb:
        raise OaiError("badResumptionToken", "The resumption token belongs to another verb.")
    return harvest


# --- answers ------------------------------------------------------------------------------


def _answer(verb: str, values: dict[str, str]) -> ET.Element:
    if verb == "Identify":
        return _identify()
    if verb == "ListMetadataFormats":
        if "identifier" in values:
            _story(values["identifier"])  # idDoesNotExist for one that is not here
        return _formats()
    if verb == "ListSets":
        harvest = _resume(verb, values["resumptionToken"]) if "resumptionToken" in values else Harvest(verb)
        return _sets(harvest)
    if verb == "GetRecord":
        _format(values["metadataPrefix"])
        found = _story(values["identifier"])
        answer = ET.Element(f"{{{OAI}}}GetRecord")
        row, story = found
        in_collections = _collections_of([story]).get(story.id, []) if story is not None else []
        answer.append(_record(row, story, with_metadata=True, collections=in_collections))
        return answer
    if "resumptionToken" in values:
        harvest = _resume(verb, values["resumptionToken"])
    else:
        prefix, spec = values["metadataPrefix"], values.get("set", "")
        harvest = Harvest(verb, prefix, spec, values.get("from", ""), values.get("until", ""))
    _format(harvest.prefix)
    return _list(harvest)


def _identify() -> ET.Element:
    answer = ET.Element(f"{{{OAI}}}Identify")
    nameable = or_(PublicRecord.was_public, PublicRecord.visible_from <= today())
    earliest = db.session.scalar(select(func.min(PublicRecord.datestamp)).where(nameable))
    for name, text in (
        ("repositoryName", current_app.config["ARCHIVE_NAME"]),
        ("baseURL", base_url() + "/oai"),
        ("protocolVersion", "2.0"),
        ("adminEmail", current_app.config["CONTACT_EMAIL"]),
        ("earliestDatestamp", (earliest or today()).isoformat()),
        ("deletedRecord", "persistent"),
        ("granularity", "YYYY-MM-DD"),
    ):
        ET.SubElement(answer, f"{{{OAI}}}{name}").text = text
    return answer


def _formats() -> ET.Element:
    answer = ET.Element(f"{{{OAI}}}ListMetadataFormats")
    for prefix, (schema, namespace) in FORMATS.items():
        item = ET.SubElement(answer, f"{{{OAI}}}metadataFormat")
        ET.SubElement(item, f"{{{OAI}}}metadataPrefix").text = prefix
        ET.SubElement(item, f"{{{OAI}}}schema").text = schema
        ET.SubElement(item, f"{{{OAI}}}metadataNamespace").text = namespace
    return answer


def _format(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"This repository offers only: {', '.join(FORMATS)}.")


def _sets(harvest: Harvest) -> ET.Element:
    """Themes and published collections; few enough for one page, so no token is ever made."""
    answer = ET.Element(f"{{{OAI}}}ListSets")
    # Only themes of public stories: a term of hidden stories alone can say too much.
    themes = [term for term, _count in term_counts.in_public_use(Theme)]
    found = [(f"theme:{t.slug}", f"{t.name_es} / {t.name_en}") for t in themes]
    collections = db.session.scalars(consent.public_collections().order_by(Collection.id))
    found += [(f"collection:{c.public_id}", f"{c.title('es')} / {c.title('en')}") for c in collections]
    for spec, name in found:
        item = ET.SubElement(answer, f"{{{OAI}}}set")
        ET.SubElement(item, f"{{{OAI}}}setSpec").text = spec
        ET.SubElement(item, f"{{{OAI}}}setName").text = name
    if not found:
        raise OaiError("noSetHierarchy", "This repository has no sets yet.")
    return answer


def _story(identifier: str) -> tuple[PublicRecord, Story | None]:
    """The record ``identifier`` names, if it may be named at all (idDoesNotExist otherwise)."""
    prefix = f"oai:{_repository_id()}:"
    public_id = identifier[len(prefix) :] if identifier.startswith(prefix) else ""
    row = (
        db.session.scalar(select(PublicRecord).where(PublicRecord.public_id == public_id))
        if public_id
        else None
    )
    if row is not None:
        story = db.session.get(Story, row.story_id)
        shown = _shown(row, story)
        if shown is not None:
            return row, story if shown else None  # None: a deleted header, never the story
    raise OaiError("idDoesNotExist", "No record has that identifier here.")


def _shown(row: PublicRecord, story: Story | None) -> bool | None:
    """True: a full record; False: a deleted header; None: nothing (never public)."""
    if story is not None and consent.story_is_public(story):
        return True
    if row.was_public or (story is not None and publication.is_public(row)):
        return False
    return None


def _list(harvest: Harvest) -> ET.Element:
    """One page of records or headers, in ``public_record`` order, and the token for the next
    when there is one (read ahead so that a token never leads to an empty page)."""
    query = select(PublicRecord)
    stamp = _datestamp_clause()
    if harvest.start:
        query = query.where(stamp >= _day(harvest.start))
    if harvest.until:
        query = query.where(stamp <= _day(harvest.until))
    members: set[int] | None = None
    if harvest.set:
        # A deleted header carries no set, and belongs to every set: a story that left a theme
        # as it was withdrawn must still reach those who harvest that theme.
        member_ids = _set_members(harvest.set)
        maybe_gone = or_(PublicRecord.visible_from.is_(None), PublicRecord.visible_from > today())
        query = query.where(or_(PublicRecord.story_id.in_(member_ids), maybe_gone))
    found: list[tuple[PublicRecord, Story | None]] = []
    after = harvest.after
    while len(found) <= PAGE:
        # Read ahead one row past the page, not a whole page: the next request reads it again.
        need = PAGE + 1 - len(found)
        batch = query.where(PublicRecord.id > after).order_by(PublicRecord.id).limit(need)
        rows = list(db.session.scalars(batch))
        ids = [r.story_id for r in rows]
        loaded = select(Story).where(Story.id.in_(ids)).options(*WITH_RECORD)
        stories = {s.id: s for s in db.session.scalars(loaded)}
        if harvest.set:
            in_page = _set_members(harvest.set).where(_story_column(harvest.set).in_(ids))
            members = set(db.session.scalars(in_page))
        for row in rows:
            shown = _shown(row, stories.get(row.story_id))
            if shown is None or (shown and members is not None and row.story_id not in members):
                continue
            found.append((row, stories.get(row.story_id) if shown else None))
        if len(rows) < need:
            break
        after = rows[-1].id
    page, more = found[:PAGE], len(found) > PAGE
    if not page:
        raise OaiError("noRecordsMatch", "No record matches these arguments.")
    answer = ET.Element(f"{{{OAI}}}{harvest.verb}")
    full = harvest.verb == "ListRecords"
    collections = _collections_of([story for _row, story in page if story is not None])
    for row, story in page:
        in_collections = collections.get(row.story_id, []) if story is not None else []
        record = _record(row, story, with_metadata=full, collections=in_collections)
        answer.append(record if full else record[0])
    if more or harvest.after:
        token = ET.SubElement(answer, f"{{{OAI}}}resumptionToken", cursor=str(harvest.cursor))
        if more:
            following = {**asdict(harvest), "after": page[-1][0].id, "cursor": harvest.cursor + len(page)}
            token.text = _token(Harvest(**following))
    return answer


def _set_members(spec: str) -> Select[Any]:
    """The ids of the stories in set ``spec`` that may be shown in it: a theme's, or the entries
    of a published collection whose narrator's newest consent allows collections."""
    kind, _, key = spec.partition(":")
    if kind == "theme":
        theme = select(Theme.id).where(Theme.slug == key)
        return select(story_theme.c.story_id).where(story_theme.c.theme_id.in_(theme))
    published = consent.public_collections().where(Collection.public_id == key)
    allowed = consent.public_stories().where(ConsentRecord.permission_column("in_collections").is_(True))
    return select(CollectionEntry.story_id).where(
        CollectionEntry.kind == EntryKind.STORY,
        CollectionEntry.collection_id.in_(published.with_only_columns(Collection.id)),
        CollectionEntry.story_id.in_(allowed.with_only_columns(Story.id)),
    )


def _story_column(spec: str) -> Any:
    return story_theme.c.story_id if spec.startswith("theme:") else CollectionEntry.story_id


def _collections_of(stories: list[Story]) -> dict[int, list[str]]:
    """The published collections each public story may be shown in, for its header's sets."""
    ids = [
        s.id for s in stories if s.current_consent is not None and s.current_consent.choices.in_collections
    ]
    query = (
        select(CollectionEntry.story_id, Collection.public_id)
        .join(Collection, Collection.id == CollectionEntry.collection_id)
        .where(CollectionEntry.story_id.in_(ids), CollectionEntry.kind == EntryKind.STORY)
        .where(Collection.id.in_(consent.public_collections().with_only_columns(Collection.id)))
        .order_by(Collection.id)
    )
    found: dict[int, list[str]] = {}
    for story_id, public_id in db.session.execute(query):
        if story_id is not None:
            found.setdefault(story_id, []).append(public_id)
    return found


def _datestamp_clause() -> Any:
    """The record's day in SQL (see ``_datestamp``)."""
    reached = and_(PublicRecord.visible_from <= today(), PublicRecord.visible_from > PublicRecord.datestamp)
    return case((reached, PublicRecord.visible_from), else_=PublicRecord.datestamp)


def _datestamp(row: PublicRecord) -> date:
    """The record's day: the day of its last change, or, once the story has become public on a
    later day (an embargo that ended), that day. A story embargoed again leaves view the day of
    the change, not the day the embargo ends."""
    if row.visible_from is not None and row.datestamp < row.visible_from <= today():
        return row.visible_from
    return row.datestamp


# --- records ------------------------------------------------------------------------------


def _repository_id() -> str:
    """The repository's part of every identifier: the public address's host name."""
    return base_url().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]


def _record(
    row: PublicRecord,
    story: Story | None,
    with_metadata: bool,
    collections: Sequence[str] = (),
) -> ET.Element:
    """A record (header, and metadata when asked); ``story`` None: a deleted one."""
    record = ET.Element(f"{{{OAI}}}record")
    header = ET.SubElement(record, f"{{{OAI}}}header")
    ET.SubElement(header, f"{{{OAI}}}identifier").text = f"oai:{_repository_id()}:{row.public_id}"
    ET.SubElement(header, f"{{{OAI}}}datestamp").text = _datestamp(row).isoformat()
    if story is None:
        header.set("status", "deleted")
        return record
    for theme in story.themes:
        ET.SubElement(header, f"{{{OAI}}}setSpec").text = f"theme:{theme.slug}"
    for public_id in collections:
        ET.SubElement(header, f"{{{OAI}}}setSpec").text = f"collection:{public_id}"
    if with_metadata:
        ET.SubElement(record, f"{{{OAI}}}metadata").append(dublin_core(story))
    return record


def dublin_core(story: Story) -> ET.Element:
    """The story as simple Dublin Core, in both languages (``xml:lang``), public parts only."""
    dc = ET.Element(f"{{{OAI_DC}}}dc")
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")

    def add(name: str, text: str, lang: str | None = None) -> None:
        if text:
            element = ET.SubElement(dc, f"{{{DC}}}{name}")
            element.text = text
            if lang:
                element.set(XML_LANG, lang)

    for lang in ("es", "en"):
        add("title", getattr(story, f"title_{lang}"), lang)
    add("creator", consent.credit_line(story) or "")
    for lang in ("es", "en"):
        for theme in story.themes:
            add("subject", theme.name(lang), lang)
    for lang in ("es", "en"):
        add("description", getattr(story, f"summary_{lang}"), lang)
    add("publisher", "Taller Nuevo Norte")
    add("date", (story.published_on or today()).isoformat())
    add("type", "Text")
    for kind in sorted({m.kind for m in story.media if consent.media_is_public(m)}):
        add("type", DCMI_TYPE.get(kind, ""))
    add("identifier", story_url(story.public_id))  # its persistent address: cite this
    add("language", story.original_language if story.original_language in ("es", "en") else "")
    for lang in ("es", "en"):
        for place in story.places:
            add("coverage", place.name(lang), lang)
    add("rights", "Publicada con el consentimiento de quien la cuenta.", "es")
    add("rights", "Published with the consent of the person who tells it.", "en")
    return dc
