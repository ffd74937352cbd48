"""The admin page of partner archives (/curate/admin/partners): who may reach it, what it lists,
and adding, letting follow, harvesting and removing a partner through it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, Job, JobKind, JobState, Partner
from nuevonorte.models.base import utcnow
from nuevonorte.partners.client import TRANSPORT
from tests.curate_fixtures import csrf, post

PAGE = "/curate/admin/partners"
#: A loopback address: a partner may be reached over plain http there.
STUB_URL = "http://127.0.0.1:18009"


@pytest.fixture
def admin_en(admin_client: FlaskClient) -> FlaskClient:
    """The admin, reading the workspace in English (the words these tests look for)."""
    post(admin_client, "/curate/language", {"lang": "en", "next": "/curate/"})
    return admin_client


def partner_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Partner.id))) or 0


def make_partner(**fields: Any) -> Partner:
    values: dict[str, Any] = {"url": "https://sur.example.org", "name": "Archivo del Sur", "harvested": True}
    partner = Partner(**(values | fields))
    db.session.add(partner)
    db.session.commit()
    return partner


def stub_archive(name: str, stories: int) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering only ``/api/v1/archive`` as a Nuevo Norte archive does."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"] != "/api/v1/archive":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        body = json.dumps({"name": name, "software": "nuevonorte", "api": "1", "stories": stories}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


def test_a_curator_who_is_not_admin_gets_403(app: Flask, curator_client: FlaskClient) -> None:
    post(curator_client, "/curate/language", {"lang": "en", "next": "/curate/"})
    assert curator_client.get(PAGE).status_code == 403
    token = csrf(curator_client, "/curate/")
    for url, data in [
        (f"{PAGE}/identify", {"url": "https://sur.example.org"}),
        (f"{PAGE}/allow", {"follower_url": "https://sur.example.org"}),
    ]:
        assert curator_client.post(url, data={"csrf_token": token, **data}).status_code == 403
    assert partner_count() == 0
    assert "Partner archives" not in curator_client.get("/curate/").get_data(as_text=True)


def test_the_list_shows_a_partner_not_yet_confirmed_as_hidden(app: Flask, admin_en: FlaskClient) -> None:
    make_partner(confirmed_at=None, last_error="timeout", subscribed=True, key_out="k" * 40, key_in="j" * 40)
    assert 'href="/curate/admin/partners"' in admin_en.get("/curate/").get_data(as_text=True)
    response = admin_en.get(PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Archivo del Sur" in html and "https://sur.example.org" in html
    assert "Hidden: not confirmed yet" in html
    assert "The archive did not answer in time." in html
    assert "Both ways" in html
    assert "Harvest now" in html and "Remove" in html
    assert "k" * 40 not in html and "j" * 40 not in html  # keys are never shown


def test_the_list_says_when_a_partner_was_last_confirmed(app: Flask, admin_en: FlaskClient) -> None:
    make_partner(url="https://norte.example.org", name="Norte", confirmed_at=utcnow())
    make_partner(confirmed_at=datetime(2020, 5, 1, 12, 30, tzinfo=UTC))
    html = admin_en.get(PAGE).get_data(as_text=True)
    assert "Shown" in html
    assert "Hidden: not confirmed since 2020-05-01 12:30 UTC" in html


def test_adding_an_invalid_address_says_so_and_adds_nothing(app: Flask, admin_en: FlaskClient) -> None:
    response = post(admin_en, f"{PAGE}/identify", {"url": "ftp://x"}, page=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This is not an archive" in html
    assert 'value="ftp://x"' in html  # the form keeps what was typed
    assert partner_count() == 0


def test_an_unreachable_archive_says_so_and_adds_nothing(app: Flask, admin_en: FlaskClient) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app.extensions[TRANSPORT] = httpx.MockTransport(refuse)
    response = post(admin_en, f"{PAGE}/identify", {"url": STUB_URL}, page=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was added." in html and "could not be reached" in html
    assert partner_count() == 0


def test_adding_an_archive_shows_what_it_says_then_keeps_it_once_confirmed(
    app: Flask, admin_en: FlaskClient
) -> None:
    app.extensions[TRANSPORT] = httpx.WSGITransport(app=stub_archive("Archivo del Sur", 3))
    response = post(admin_en, f"{PAGE}/identify", {"url": STUB_URL + "/"}, page=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Archivo del Sur" in html and STUB_URL in html
    assert "Nuevo Norte archive" in html and "<dd>3</dd>" in html
    assert "their pictures and recordings are not copied" in html.lower()
    assert partner_count() == 0  # nothing kept before confirmation

    hidden = dict(re.findall(r'name="(url|name|protocol)" type="hidden" value="([^"]*)"', html))
    assert hidden == {"url": STUB_URL, "name": "Archivo del Sur", "protocol": "nuevonorte"}
    response = post(admin_en, f"{PAGE}/add", hidden, page=PAGE)
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    partner = db.session.scalars(select(Partner)).one()
    assert (partner.url, partner.name, partner.protocol, partner.harvested) == (
        STUB_URL,
        "Archivo del Sur",
        "nuevonorte",
        True,
    )
    job = db.session.scalars(select(Job).where(Job.partner_id == partner.id)).one()
    assert (job.kind, job.state) == (JobKind.PARTNER_HARVEST, JobState.QUEUED)
    assert "Archivo del Sur was added." in admin_en.get(PAGE).get_data(as_text=True)


def test_a_changed_answer_is_shown_again_before_anything_is_kept(app: Flask, admin_en: FlaskClient) -> None:
    app.extensions[TRANSPORT] = httpx.WSGITransport(app=stub_archive("Otro nombre", 3))
    data = {"url": STUB_URL, "name": "Archivo del Sur", "protocol": "nuevonorte"}
    response = post(admin_en, f"{PAGE}/add", data, page=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "changed since you looked" in html and "Otro nombre" in html
    assert partner_count() == 0


def test_allow_keeps_an_archive_that_only_follows_our_notices(app: Flask, admin_en: FlaskClient) -> None:
    response = post(
        admin_en, f"{PAGE}/allow", {"follower_url": "https://norte.example.org/archivo/"}, page=PAGE
    )
    assert response.status_code == 302
    partner = db.session.scalars(select(Partner)).one()
    assert (partner.url, partner.harvested) == ("https://norte.example.org/archivo", False)
    html = admin_en.get(PAGE).get_data(as_text=True)
    assert "May follow our withdrawal notices" in html
    assert "Harvest now" not in html  # its stories are not shown here


def test_allow_refuses_a_plain_http_address(app: Flask, admin_en: FlaskClient) -> None:
    response = post(admin_en, f"{PAGE}/allow", {"follower_url": "http://norte.example.org"}, page=PAGE)
    assert response.status_code == 422
    assert "must start with https://" in response.get_data(as_text=True)
    assert partner_count() == 0


def test_harvest_now_asks_for_a_harvest(app: Flask, admin_en: FlaskClient) -> None:
    partner_id = make_partner().id
    response = post(admin_en, f"{PAGE}/harvest", {"partner": str(partner_id)}, page=PAGE)
    assert response.status_code == 302
    job = db.session.scalars(select(Job).where(Job.partner_id == partner_id)).one()
    assert (job.kind, job.state) == (JobKind.PARTNER_HARVEST, JobState.QUEUED)
    assert post(admin_en, f"{PAGE}/harvest", {"partner": "999"}, page=PAGE).status_code == 404


def test_remove_asks_first_then_deletes_the_partner(app: Flask, admin_en: FlaskClient) -> None:
    partner_id = make_partner().id
    html = admin_en.get(f"{PAGE}/remove?partner={partner_id}").get_data(as_text=True)
    assert "Archivo del Sur" in html and "Nothing changes in the other archive" in html
    assert partner_count() == 1  # looking at the warning changes nothing
    response = post(admin_en, f"{PAGE}/remove", {"partner": str(partner_id)}, page=PAGE)
    assert response.status_code == 302
    assert partner_count() == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "partner.removed")) is not None
    assert admin_en.get(f"{PAGE}/remove?partner={partner_id}").status_code == 404
