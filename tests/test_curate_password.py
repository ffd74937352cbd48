"""A curator changes their own password: the current one proves it is them (A11, A14, A15)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, CuratorAccount
from tests.curate_fixtures import PASSWORD, post, sign_in

URL = "/curate/account/password"
NEW = "a brand new long passphrase"


def _change(client: FlaskClient, current: str, new: str = NEW, again: str | None = None):  # type: ignore[no-untyped-def]
    data = {"current": current, "new": new, "again": new if again is None else again}
    return post(client, URL, data, page=URL)


def _hash(account: CuratorAccount) -> str:
    db.session.expire_all()
    query = select(CuratorAccount.password_hash).where(CuratorAccount.id == account.id)
    return db.session.scalars(query).one()


def test_change_ends_every_session_and_only_the_new_password_works(
    app: Flask, curator_client: FlaskClient, curator: CuratorAccount
) -> None:
    other_device = app.test_client()
    assert sign_in(other_device, curator.email).status_code == 302
    page = curator_client.get(URL).get_data(as_text=True)
    assert "Cambia tu contraseña" in page and "Contraseña actual" in page
    response = _change(curator_client, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/curate/sign-in")
    assert curator_client.get("/curate/").status_code == 302  # this session ended
    assert other_device.get("/curate/").status_code == 302  # and the one on the other device
    follow = curator_client.get("/curate/sign-in").get_data(as_text=True)
    assert "Cambiamos tu contraseña" in follow
    assert sign_in(curator_client, curator.email, PASSWORD).status_code == 200  # refused
    assert sign_in(curator_client, curator.email, NEW).status_code == 302
    query = select(AuditEvent.action).where(AuditEvent.object_id == str(curator.id))
    assert "account.password_changed" in db.session.scalars(query).all()


def test_wrong_current_password_changes_nothing_and_is_throttled(
    curator_client: FlaskClient, curator: CuratorAccount
) -> None:
    before = _hash(curator)
    response = _change(curator_client, "not my password at all")
    assert response.status_code == 422
    assert "no es tu contraseña actual" in response.get_data(as_text=True)
    assert _hash(curator) == before and curator_client.get("/curate/").status_code == 200
    for _attempt in range(4):
        _change(curator_client, "still not my password")
    # Five failures: even the right password is refused for a while, as at sign-in.
    throttled = _change(curator_client, PASSWORD)
    assert throttled.status_code == 429 and _hash(curator) == before


def test_new_password_rules_in_english(curator_client: FlaskClient, curator: CuratorAccount) -> None:
    post(curator_client, "/curate/language", {"lang": "en", "next": URL}, page=URL)
    before = _hash(curator)
    short = _change(curator_client, PASSWORD, "short")
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    differ = _change(curator_client, PASSWORD, NEW, NEW + "x")
    assert differ.status_code == 400 and "are not the same" in differ.get_data(as_text=True)
    huge = _change(curator_client, PASSWORD, "x" * 10_000)
    assert huge.status_code == 422 and "at most 256 characters" in huge.get_data(as_text=True)
    assert _hash(curator) == before and curator_client.get("/curate/").status_code == 200


def test_a_visitor_cannot_reach_the_page(client: FlaskClient) -> None:
    assert client.get(URL).status_code == 302
    assert client.post(URL, data={"current": "x", "new": NEW, "again": NEW}).status_code in (302, 400)
