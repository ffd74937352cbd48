"""A23: a NUL character or an impossible number anywhere in a request is refused clearly.

PostgreSQL cannot hold or compare text with a NUL (U+0000) in it, and no column holds a number
past its integer type: both used to end in a 500, and on the contribution form the typed story
was lost. These tests walk every route of the URL map, as a visitor, a signed-in contributor, a
curator and an admin, with a NUL in each path segment, each query parameter the pages use or the
code reads, and each field of every form the pages show; then with huge numbers. No answer may
be a 5xx, a NUL is a 400 (or a 404 for an address that cannot exist), nothing changes, and the
contribution form comes back with the person's text in it. They run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from nuevonorte import curation, demo, drafts, search, sensitive, transcripts
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.models import (
    AuditEvent,
    Collection,
    CollectionEntry,
    ConsentRecord,
    Contributor,
    Cue,
    CuratorAccount,
    JobState,
    MediaFile,
    Partner,
    Place,
    Role,
    Story,
    StoryStatus,
    Theme,
    TranscriptSegment,
)
from nuevonorte.request_line import MAX_REQUEST_LINE
from nuevonorte.search import store
from tests.conftest import IsolatedClient
from tests.contribute_fixtures import contribute, nothing_stored, receipt_code, sent, story_form
from tests.curate_fixtures import PASSWORD, add_audio, add_image, csrf, page_tokens, sign_in
from tests.html_forms import Form, forms

NUL = "\x00"
ROLES = ("anonymous", "contributor", "curator", "admin")
HUGE = ("99999999999999999999", str(2**31), str(2**63), "9" * 5000)
#: Query parameters the code reads that no page links to with a value (the rest are found).
READ_BY_THE_CODE = ("page", "q", "t", "show", "next", "lang", "person", "object")
#: Endpoints whose listing is paged by ``?page=``: a page past any listing is a 404.
PAGED = {
    "search.page",
    "search_api.api_search",
    "public.theme",
    "public.place",
    "curate.queue",
    "curate.search_page",
    "curate.audit_trail",
}
#: The forms each role finds on the pages it can open (the POST routes they lead to).
FORMS_BY_ROLE = {
    "anonymous": {"language.choose", "contribute.contribute", "contribute.my_stories", "curate.sign_in"},
    "contributor": {
        "language.choose",
        "contribute.contribute",
        "contribute.my_story",
        "contribute.withdraw",
        "contribute.withdraw_media",
        "contribute.forget",
    },
    "curator": {
        "curate.sign_out",
        "curate.language",
        "curate.own_password",
        "curate.act",
        "curate.decide_flag",
        "curate.narrow_consent",
        "curate.save_description",
        "curate.save_correction",
        "curate.upload_transcript",
        "curate.save_cues",
        "curate.add_segment",
        "curate.save_segment",
        "curate.delete_segment",
        "curate.create_collection",
        "curate.save_collection",
        "curate.publish_collection",
        "curate.add_entry",
        "curate.add_stories",
        "curate.reorder",
        "curate.discard_draft",
        "curate.entry_action",
        "curate.set_cover",
        "curate.add_note",
        "curate.delete_note",
        "curate.assign",
        "curate.bulk",
        "curate.save_translation",
        "curate.request_machine_draft",
        "curate.review_machine_draft",
    },
    "admin": {
        "curate.create_account",
        "curate.account_action",
        "curate.save_term",
        "curate.import_event",
        "curate.jobs_settings",
        "curate.retry_job",
        "curate.partner_identify",
        "curate.partner_allow",
        "curate.partner_harvest",
    },
}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """No rate limits: the walk sends hundreds of requests in a minute."""
    app_config["RATE_LIMITS"] = {}
    return app_config


class BufferedClient(IsolatedClient):
    """Reads each answer whole and closes it (static and media files are streamed otherwise)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@dataclass
class World:
    """Real objects for every URL parameter, and a signed-in client for each role."""

    clients: dict[str, FlaskClient]
    values: dict[str, dict[str, str]]


@pytest.fixture
def world(app: Flask, make_story: Callable[..., Story], make_curator: Callable[..., Any]) -> Iterator[World]:
    app.test_client_class = BufferedClient
    demo.load()
    db.session.commit()
    public = db.session.scalars(
        select(Story).where(Story.status == StoryStatus.PUBLISHED, Story.media.any())
    ).first()
    collection = db.session.scalars(select(Collection)).one()
    entry = collection.entries[1]
    theme = db.session.scalars(select(Theme)).first()
    place = db.session.scalars(select(Place)).first()
    assert public is not None and theme is not None and place is not None

    contributor = app.test_client()
    code = receipt_code(contribute(contributor, "en", title="Mine", body="My own story."))
    token = csrf(contributor, "/en/my-stories")
    assert contributor.post("/en/my-stories", data={"csrf_token": token, "code": code}).status_code == 303
    db.session.rollback()
    own = db.session.scalars(select(Story).where(Story.contributor_id.is_not(None))).one()
    own_photo = add_image(own)

    # A phone number the sensitive-passage assistant flags: the review page has its forms (T16).
    review = make_story(StoryStatus.SUBMITTED, title="To review", body="Mi celular es 55 3817 2290.")
    review_photo = add_image(review)
    review_audio = add_audio(review)
    segment = transcripts.add_segment(review_audio, 0, transcripts.SegmentText(title_es="Llegada"), None)
    assert review_audio.transcript is not None
    review_audio.transcript.machine_draft = True  # the editor has its "reviewed" form
    undrafted = add_audio(review)  # the review page offers to draft it
    failed = records.request_draft(undrafted)  # and the jobs page to try it again
    failed.state, failed.reason = JobState.FAILED, "audio_unreadable"
    # A partner archive, so the admin's partner page has its "harvest now" form.
    db.session.add(Partner(url="https://archivo.tijuana.example", name="Archivo de Tijuana", harvested=True))
    db.session.commit()
    note = curation.add_note(review, make_curator(Role.CURATOR, PASSWORD), "Revisar con el taller.")

    curator = make_curator(Role.CURATOR, PASSWORD)
    admin = make_curator(Role.ADMIN, PASSWORD)
    # A draft kept from an expired session, so the translation page has its "discard" form (A26).
    translation_page = f"/curate/stories/{review.public_id}/translation"
    drafts.keep(curator.id, review, translation_page, MultiDict([("p-0", "Mi celular.")]))
    db.session.commit()
    clients = {"anonymous": app.test_client(), "contributor": contributor}
    for role, account in (("curator", curator), ("admin", admin)):
        clients[role] = app.test_client()
        assert sign_in(clients[role], account.email).status_code == 302

    common = {
        "lang": "en",
        "variant": "original",
        "size": "max",
        "kind": "theme",
        "filename": "style.css",
        "collection_id": collection.public_id,
        "entry_id": str(entry.id),
        "account_id": str(curator.id),
        "part": "1",
        "fingerprint": sensitive.undecided(review)[0].fingerprint,
        "decision": "keep",
        "note_id": str(note.id),
        "segment_id": str(segment.id),
        "job_id": str(failed.id),
    }
    values = {
        "public": common | {"story_id": public.public_id, "media_id": public.media[0].public_id},
        "contribute": common | {"story_id": own.public_id, "media_id": own_photo.public_id},
        "curate": common | {"story_id": review.public_id, "media_id": review_photo.public_id},
        "transcript": common | {"story_id": review.public_id, "media_id": review_audio.public_id},
        "theme": common | {"slug": theme.slug_for("en")},
        "place": common | {"slug": place.slug_for("en")},
    }
    search.rebuild()  # real indexes, so search pages answer as they do in production
    yield World(clients, values)
    store.forget_searchers()


def values_for(endpoint: str, world: World) -> dict[str, str]:
    """Real values for the arguments of ``endpoint``'s route."""
    if endpoint.startswith("contribute."):
        group = "contribute"
    elif (
        endpoint in ("curate.transcript", "curate.save_cues", "curate.upload_transcript")
        or "segment" in endpoint
    ):
        group = "transcript"
    elif endpoint.startswith("curate."):
        group = "curate"
    elif endpoint in ("public.theme", "public.place"):
        group = endpoint.removeprefix("public.")
    else:
        group = "public"
    actions = {
        "curate.act": "publish",
        "curate.publish_collection": "publish",
        "curate.entry_action": "up",
        "curate.account_action": "disable",
    }
    return world.values[group] | {"action": actions.get(endpoint, "publish")}


def routes(app: Flask) -> Iterator[tuple[str, Rule]]:
    """(method, rule) of every route of the app."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, rule


def path(rule: Rule, values: dict[str, str]) -> str:
    """The URL of ``rule`` with ``values`` (any text, percent-encoded) in its segments."""
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{name}>", quote(values[name], safe=""), url)
    return url


def state() -> tuple[Any, ...]:
    """Everything a request could change that matters: content, consent, accounts, the trail."""
    db.session.rollback()

    def count(model: Any) -> int:
        return db.session.scalar(select(func.count()).select_from(model)) or 0

    def rows(*columns: Any) -> list[Any]:
        return [tuple(r) for r in db.session.execute(select(*columns).order_by(*columns)).all()]

    return (
        rows(Story.public_id, Story.status, Story.revision, Story.title_es, Story.title_en),
        rows(Collection.public_id, Collection.status, Collection.revision, Collection.cover_media_id),
        rows(CuratorAccount.email, CuratorAccount.role, CuratorAccount.is_active),
        rows(CuratorAccount.email, CuratorAccount.session_version),
        [count(m) for m in (ConsentRecord, MediaFile, AuditEvent, Cue, Contributor, CollectionEntry)],
        [count(m) for m in (Theme, Place)],
        rows(TranscriptSegment.start_ms, TranscriptSegment.title_es),
    )


def long_line(value: str) -> tuple[int, ...]:
    """(414,) for a value that makes any address longer than a server reads (issue 14: the
    archive's own 414 page, before any view), else ()."""
    return (414,) if len(value) > MAX_REQUEST_LINE else ()


def token_page(role: str) -> str:
    return "/curate/" if role in ("curator", "admin") else "/en/contribute"


def assert_refused(response: Any, where: object, statuses: tuple[int, ...] = (400,)) -> None:
    """A clear refusal: the status, and JSON under /api/ (HTML elsewhere)."""
    assert response.status_code in statuses, (where, response.status_code)
    if response.request.path.startswith("/api/"):
        assert response.is_json, where
        if response.status_code == 400:
            assert response.get_json()["error"] == "bad_input", where


def pages(app: Flask, world: World, role: str) -> Iterator[tuple[str, str, str]]:
    """(endpoint, url, html) of every page (GET route) the role can open as it is."""
    client = world.clients[role]
    for method, rule in routes(app):
        if method != "GET" or rule.endpoint in ("static", "media.media", "curate.media", "root.index"):
            continue
        url = path(rule, values_for(rule.endpoint, world))
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            yield rule.endpoint, url, response.get_data(as_text=True)


def query_names(app: Flask, world: World, role: str) -> set[str]:
    """The query parameters the role's pages use (GET forms and links), and those the code reads."""
    names = set(READ_BY_THE_CODE)
    client = world.clients[role]
    searched = [client.get(url, query_string={"q": "Tijuana"}) for url in ("/en/search", "/curate/search")]
    results = [r.get_data(as_text=True) for r in searched if r.status_code == 200]
    assert results, "no search page answered"
    for page in [*(p for _e, _u, p in pages(app, world, role)), *results]:
        for form in forms(page):
            if form.method == "get":
                names.update(form.names)
        for href in re.findall(r'href="([^"]*\?[^"]*)"', page):
            names.update(name for name, _v in parse_qsl(urlsplit(html.unescape(href)).query))
    return names


# --- NUL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a23_nul_anywhere_in_the_address(app: Flask, world: World, role: str) -> None:
    """In each path segment of every route (GET and POST), and in each query parameter."""
    client = world.clients[role]
    token = csrf(client, token_page(role))
    names = query_names(app, world, role)
    assert {"theme", "place", "language", "media"} <= names  # the search facets' links
    if role in ("curator", "admin"):
        assert {"status", "kind"} <= names  # the review queue's filters
    before = state()
    tried = 0
    for method, rule in routes(app):
        values = values_for(rule.endpoint, world)
        for name in rule.arguments:
            for bad in (values[name] + NUL, NUL + values[name][:3]):
                url = path(rule, values | {name: bad})
                response = client.open(url, method=method, data={"csrf_token": token})
                assert_refused(response, (role, method, rule.rule, name), (400, 404))
                tried += 1
    assert tried > 80
    for method, rule in routes(app):
        if method != "GET" or rule.arguments - {"lang"}:
            continue  # routes with ids: their query is the same code path, walked below for one
        url = path(rule, values_for(rule.endpoint, world))
        for name in sorted(names):
            response = client.get(url, query_string={name: f"ab{NUL}c"})
            assert_refused(response, (role, rule.rule, name))
        assert_refused(client.get(url, query_string={f"q{NUL}": "1"}), (role, rule.rule, "name"))
    for rule_path in ("/en/stories/{story_id}", "/curate/stories/{story_id}"):
        url = rule_path.format(story_id=world.values["public"]["story_id"])
        for name in ("t", "show", "q"):
            assert_refused(client.get(url, query_string={name: NUL}), (role, url, name))
    assert state() == before


def _walked_forms(app: Flask, world: World, role: str) -> dict[tuple[str, tuple[str, ...]], Form]:
    """Every POST form on the role's pages, once each (by where it goes and what it holds)."""
    found: dict[tuple[str, tuple[str, ...]], Form] = {}
    for _endpoint, url, page in pages(app, world, role):
        for form in forms(page):
            if form.method == "post":
                form.action = form.action or url
                found.setdefault((urlsplit(form.action).path, tuple(form.names)), form)
    return found


def _endpoint(app: Flask, url: str) -> str:
    endpoint, _args = app.url_map.bind("localhost").match(urlsplit(url).path, method="POST")
    return str(endpoint)


def _with_nul(value: str) -> str:
    """``value`` with a NUL in its middle, as a paste from another program might leave it."""
    middle = len(value) // 2
    return value[:middle] + NUL + value[middle:]


#: Forms that end the session or delete something go last, so the walk keeps its footing.
_LAST = ("sign-out", "forget", "withdraw", "password", "accounts/")


@pytest.mark.parametrize("role", ROLES)
def test_a23_nul_in_any_form_field(app: Flask, world: World, role: str) -> None:
    client = world.clients[role]
    walked = _walked_forms(app, world, role)
    reached = {_endpoint(app, form.action or "") for form in walked.values()}
    assert reached >= FORMS_BY_ROLE[role]
    before = state()
    ordered = sorted(walked.values(), key=lambda f: any(s in (f.action or "") for s in _LAST))
    for form in ordered:
        endpoint = _endpoint(app, form.action or "")
        base = list(form.sent)
        if endpoint == "contribute.contribute":  # a complete story: only the NUL is wrong
            filled = story_form()
            base = [(n, filled.pop(n, v)) for n, v in base if n not in ("agree", "in_collections")]
            base += [(n, v) for n, v in filled.items() if n in form.names]
        variants = [(name, _with_nul(dict(base).get(name, "y") or "y")) for name in form.names]
        for name, bad in [*variants, (f"note{NUL}", "1")]:
            pairs = [(n, v) for n, v in base if n != name] + [(name, bad)]
            data: MultiDict[str, Any] = MultiDict(pairs)
            for file_field in form.files:
                data.add(file_field, (io.BytesIO(b""), ""))
            response = client.post(
                form.action or "",
                data=data,
                content_type="multipart/form-data" if form.multipart else None,
            )
            assert_refused(response, (role, endpoint, name))
            if endpoint == "contribute.contribute":
                _assert_text_kept(response, dict(base), name)
        assert state() == before, (role, endpoint)


def _assert_text_kept(response: Any, sent: dict[str, str], nul_field: str) -> None:
    """The form is back with what the person typed, the NUL taken out, and says what happened."""
    page = response.get_data(as_text=True)
    assert 'id="contribute-form"' in page
    assert 'id="problem"' in page
    for name in ("title", "body"):
        assert html.escape(sent[name], quote=False) in page, (nul_field, name)
    assert NUL not in page and "&#0;" not in page


def test_a23_every_post_route_is_walked(app: Flask) -> None:
    """The walk above reaches every POST route of the app (the API and the receipt's "I wrote
    it down", only shown right after a story is sent, have their own tests below; OAI-PMH's POST,
    which changes nothing, has its own in tests/test_oai.py; a partner archive's subscription and
    notices, and the partner forms shown only after a first step — the confirmation of a new
    partner, of a removal — theirs in tests/test_partners.py and tests/test_curate_partners.py)."""
    posts = {rule.endpoint for method, rule in routes(app) if method == "POST"}
    walked = set().union(*FORMS_BY_ROLE.values())
    assert posts - walked == {
        "api.contributions",
        "contribute.receipt_done",
        "oai.endpoint",
        "partner_api.subscribe",
        "partner_api.receive_notice",
        "curate.partner_add",
        "curate.partner_remove",
    }


def test_a23_nul_in_the_written_down_form_changes_nothing(app: Flask, client: FlaskClient) -> None:
    response = contribute(client, "en")
    assert sent(response)
    code = receipt_code(response)
    html = client.get("/en/contribute/receipt").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    for data in ({"csrf_token": _with_nul(token)}, {"csrf_token": token, _with_nul("field"): "x"}):
        refused = client.post("/en/contribute/receipt/done", data=data)
        assert refused.status_code == 400
        assert receipt_code(client.get("/en/contribute/receipt")) == code  # still there to see


# --- the contribution form and the API ------------------------------------------------------


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a23_contribution_with_a_nul_comes_back_with_the_text(
    app: Flask, client: FlaskClient, lang: str
) -> None:
    body = "Salí de Oaxaca\x00 en marzo.\n\nLlegué a Tijuana."
    response = contribute(client, lang, body=body, title="Cru\x00zando")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Salí de Oaxaca en marzo.\n\nLlegué a Tijuana." in page
    assert 'value="Cruzando"' in page
    assert 'id="problem"' in page
    if lang == "en":  # the Spanish wording arrives with the translations
        assert "invisible character" in page
    nothing_stored(app)
    # Sent again as it now stands, the story is taken.
    assert sent(contribute(client, lang, body=body.replace(NUL, ""), title="Cruzando"))


def test_a23_api_refuses_a_nul_in_any_field_with_json(app: Flask, client: FlaskClient) -> None:
    fields = story_form()
    for name in [*fields, f"note{NUL}"]:
        data = fields | {name: _with_nul(fields.get(name, "y"))}
        response = client.post(
            "/api/v1/contributions",
            data=data,
            headers={"Accept-Language": "en"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, name
        assert response.is_json
        body = response.get_json()
        assert body["error"] == "bad_input"
        assert body["kept"] is False
        assert "invisible character" in body["message"]
    response = client.get("/api/v1/search", query_string={"q": f"a{NUL}"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"
    nothing_stored(app)


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a23_huge_numbers_anywhere(app: Flask, world: World, role: str) -> None:
    client = world.clients[role]
    token = csrf(client, token_page(role))
    before = state()
    for method, rule in routes(app):
        values = values_for(rule.endpoint, world)
        for name in rule.arguments - {"lang", "filename"}:
            for huge in HUGE:
                response = client.open(
                    path(rule, values | {name: huge}), method=method, data={"csrf_token": token}
                )
                assert response.status_code < 500, (role, rule.rule, name, huge)
                if name in ("entry_id", "account_id"):
                    assert response.status_code in (302, 403, 404, *long_line(huge)), (role, rule.rule, huge)
        if method != "GET":
            continue
        url = path(rule, values)
        for name in ("page", "person", "t", "rows"):
            for huge in HUGE:
                response = client.get(url, query_string={name: huge})
                assert response.status_code < 500, (role, rule.rule, name, huge)
                if name == "page" and rule.endpoint in PAGED and response.status_code not in (302, 403):
                    assert_refused(response, (role, rule.rule, huge), long_line(huge) or (404,))
    assert state() == before


@pytest.fixture
def recording(app: Flask, make_story: Callable[..., Story]) -> str:
    """The transcript page of a recording in a story waiting for review."""
    story = make_story(StoryStatus.SUBMITTED)
    audio = add_audio(story)
    return f"/curate/stories/{story.public_id}/media/{audio.public_id}/transcript"


def in_english(client: FlaskClient) -> FlaskClient:
    """The workspace speaks the browser's language: English here, so the messages can be read."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.usefixtures("index")
def test_a23_odd_numbers_in_filters_and_pages(app: Flask, admin_client: FlaskClient) -> None:
    """The audit trail's person past any account id is a 400; digits that are not ASCII are no number."""
    client = in_english(admin_client)
    for huge in HUGE:
        response = client.get("/curate/admin/audit", query_string={"person": huge})
        if long_line(huge):
            assert response.status_code == 414 and "too long" in response.get_data(as_text=True)
            continue
        assert response.status_code == 400, huge
        assert "too large" in response.get_data(as_text=True)
    for odd in ("²", "١٢", "-1", "1.5", " 1"):
        assert client.get("/curate/admin/audit", query_string={"person": odd}).status_code == 200, odd
    for odd in ("²", "١٢", "0", "-1"):
        assert client.get("/en/search", query_string={"q": "x", "page": odd}).status_code == 200, odd


def test_a23_unicode_digits_are_not_numbers(app: Flask, curator_client: FlaskClient, recording: str) -> None:
    """``"²".isdigit()`` is true but ``int("²")`` fails: forms that counted on isdigit() crashed."""
    client = curator_client
    response = client.post(recording, data=page_tokens(client, recording) | {"rows": "²", "text_0": "x"})
    assert response.status_code == 302  # no rows: nothing to save
    describe = recording.split("/media/")[0] + "/describe"
    response = client.post(describe, data={"csrf_token": csrf(client, describe), "restricted": "²"})
    assert response.status_code in (400, 409)  # the form is incomplete; no 500


@pytest.mark.parametrize(
    "times",
    ["99999999999:00:00.000 --> 99999999999:00:01.000", "9999999:00:00.000 --> 9999999:00:01.000"],
)
def test_a23_transcript_times_past_any_recording_are_refused(
    app: Flask, curator_client: FlaskClient, recording: str, times: str
) -> None:
    client, url = in_english(curator_client), recording
    before = state()
    for text, line in ((f"WEBVTT\n\n{times}\nHola\n", 3), (f"1\n{times.replace('.', ',')}\nHola\n", 2)):
        response = client.post(
            f"{url}/upload",
            data={
                "csrf_token": csrf(client, url),
                "language": "es",
                "file": (io.BytesIO(text.encode()), "t.vtt"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, text
        assert f"Line {line}: this time is longer than any recording" in response.get_data(as_text=True)
    start, end = times.split(" --> ")
    response = client.post(
        url,
        data=page_tokens(client, url) | {"rows": "1", "text_0": "Hola", "start_0": start, "end_0": end},
    )
    assert response.status_code == 422
    assert state() == before


def test_a23_a_transcript_file_with_a_nul_is_refused_naming_its_line(
    app: Flask, curator_client: FlaskClient, recording: str
) -> None:
    client, url = in_english(curator_client), recording
    before = state()
    text = "WEBVTT\n\n00:00.000 --> 00:01.000\nHo\x00la\n"
    response = client.post(
        f"{url}/upload",
        data={
            "csrf_token": csrf(client, url),
            "language": "es",
            "file": (io.BytesIO(text.encode()), "t.vtt"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Line 4 holds an invisible character" in response.get_data(as_text=True)
    assert state() == before
