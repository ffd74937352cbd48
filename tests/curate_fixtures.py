"""Fixtures and helpers for the curators' workspace tests: sign-in, CSRF tokens, media."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nuevonorte import demo
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, MediaFile, Role, Story

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


_CUES = re.compile(r'name="cues" value="([0-9a-f]*)"')


def csrf(client: FlaskClient, url: str = "/curate/sign-in") -> str:
    """A CSRF token for the client's session, taken from a real page."""
    return page_tokens(client, url)["csrf_token"]


def page_tokens(client: FlaskClient, url: str) -> dict[str, str]:
    """What a real page's form carries besides what a person types: its CSRF token and, on
    the transcript editor, the fingerprint of the transcript the page shows (``cues``)."""
    html = client.get(url).get_data(as_text=True)
    m = _TOKEN.search(html)
    assert m, f"no CSRF token on {url}"
    tokens = {"csrf_token": m.group(1) or m.group(2)}
    if cues := _CUES.search(html):
        tokens["cues"] = cues.group(1)
    return tokens


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    """Post the sign-in form with a valid token; returns the response."""
    token = csrf(client)
    response = client.post(
        "/curate/sign-in", data={"email": email, "password": password, "csrf_token": token}, **extra
    )
    db.session.rollback()  # end the test's read snapshot so it sees what the request wrote
    return response


def post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, page: str = "/curate/", **kw: Any
) -> Any:
    """POST with a valid CSRF token (and the transcript fingerprint, unless ``data`` has one)
    taken from ``page``."""
    payload = page_tokens(client, page) | dict(data or {})
    response = client.post(url, data=payload, **kw)
    db.session.rollback()  # end the test's read snapshot so it sees what the request wrote
    return response


def add_image(story: Story, alt: bool = False) -> MediaFile:
    """Attach a generated JPEG (with display and thumbnail) to ``story``; committed."""
    media = demo.generated_image(story, len(story.media) + 1, len(story.media))
    if not alt:
        media.alt_es = media.alt_en = ""
    db.session.commit()
    return media


def add_audio(story: Story) -> MediaFile:
    """Attach a generated one-second WAV to ``story``; committed."""
    media = demo.generated_audio(story, 1, len(story.media), seconds=1, rate=8000)
    db.session.commit()
    return media


@pytest.fixture
def curator(make_curator: Callable[..., CuratorAccount]) -> CuratorAccount:
    """A curator account (password ``PASSWORD``)."""
    return make_curator(Role.CURATOR, PASSWORD)


@pytest.fixture
def admin(make_curator: Callable[..., CuratorAccount]) -> CuratorAccount:
    """An admin account (password ``PASSWORD``)."""
    return make_curator(Role.ADMIN, PASSWORD)


@pytest.fixture
def curator_client(app: Flask, client: FlaskClient, curator: CuratorAccount) -> FlaskClient:
    """A test client signed in as ``curator``."""
    assert sign_in(client, curator.email).status_code == 302
    return client


@pytest.fixture
def admin_client(app: Flask, client: FlaskClient, admin: CuratorAccount) -> FlaskClient:
    """A test client signed in as ``admin``."""
    assert sign_in(client, admin.email).status_code == 302
    return client
