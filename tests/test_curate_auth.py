"""Staff sign-in and sessions: docs/security.md A10–A16, A19."""

from __future__ import annotations

from datetime import timedelta

import argon2
import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Role, SignInFailure, StaffSession, utcnow
from tests.curate_fixtures import PASSWORD, csrf, post, sign_in


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/curate/").status_code == 200


def test_sign_in_page_in_both_languages(client: FlaskClient) -> None:
    es = client.get("/curate/sign-in", headers={"Accept-Language": "es"}).get_data(as_text=True)
    en = client.get("/curate/sign-in", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Contraseña" in es and 'lang="es"' in es
    assert "Password" in en and 'lang="en"' in en


def test_anonymous_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/curate/")
    assert response.status_code == 302 and "/curate/sign-in" in response.headers["Location"]


def test_a10_new_session_id_at_sign_in_and_old_cookie_dead_after_sign_out(
    client: FlaskClient, curator: CuratorAccount
) -> None:
    """A10: the session token changes at sign-in; a replayed cookie after sign-out is anonymous."""
    csrf(client)
    before = client.get_cookie("session").value
    assert sign_in(client, curator.email).status_code == 302
    during = client.get_cookie("session").value
    assert during != before
    assert is_signed_in(client)
    assert post(client, "/curate/sign-out").status_code == 302
    assert not is_signed_in(client)
    # Replay the cookie captured while signed in: the server-side session is gone.
    client.set_cookie("session", during)
    assert client.get("/curate/").status_code == 302
    assert db.session.scalar(select(func.count(StaffSession.id))) == 0


def test_a10_pre_sign_in_cookie_cannot_fix_the_session(client: FlaskClient, curator: CuratorAccount) -> None:
    """A10: a cookie planted before sign-in does not become a signed-in session."""
    csrf(client)
    planted = client.get_cookie("session").value
    sign_in(client, curator.email)
    client.set_cookie("session", planted)
    assert not is_signed_in(client)


def test_sign_out_is_post_only(curator_client: FlaskClient) -> None:
    """A16: GET never signs out; POST without a token is refused and the session stays."""
    assert curator_client.get("/curate/sign-out").status_code == 405
    assert curator_client.post("/curate/sign-out").status_code == 400
    assert is_signed_in(curator_client)


@pytest.mark.parametrize("change", ["role", "disable", "password"])
def test_a11_credential_or_role_change_ends_other_sessions(
    app, client: FlaskClient, admin: CuratorAccount, curator: CuratorAccount, change: str
) -> None:
    """A11: role change, disabling and a new password end every session of the account."""
    victim = app.test_client()
    sign_in(victim, curator.email)
    assert is_signed_in(victim)
    sign_in(client, admin.email)
    data = {"role": "admin", "password": "a brand new long password"}
    assert post(client, f"/curate/admin/accounts/{curator.id}/{change}", data).status_code == 302
    assert not is_signed_in(victim)


def test_a12_idle_session_expires_with_localized_message(
    client: FlaskClient, curator: CuratorAccount
) -> None:
    """A12: idle past the limit → sent to sign-in with "signed out after inactivity"."""
    start = utcnow()
    with freeze_time(start) as frozen:
        sign_in(client, curator.email)
        assert is_signed_in(client)
        frozen.tick(timedelta(minutes=20))
        assert is_signed_in(client)
        frozen.tick(timedelta(minutes=31))
        response = client.get("/curate/", headers={"Accept-Language": "en"})
        assert response.status_code == 302
        page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(
            as_text=True
        )
        assert "signed out after a period of inactivity" in page
        sign_in(client, curator.email)
        frozen.tick(timedelta(minutes=31))
        response = client.get("/curate/", headers={"Accept-Language": "es"})
        page = client.get(response.headers["Location"], headers={"Accept-Language": "es"}).get_data(
            as_text=True
        )
        assert "inactividad" in page


def test_a13_unknown_account_and_wrong_password_look_the_same(
    client: FlaskClient, curator: CuratorAccount
) -> None:
    """A13: same status, same page, and one Argon2 verification each (timing within tolerance)."""
    import time

    def attempt(email: str) -> tuple[int, str, float]:
        token = csrf(client)
        t0 = time.perf_counter()
        r = client.post(
            "/curate/sign-in", data={"email": email, "password": "wrong password here", "csrf_token": token}
        )
        elapsed = time.perf_counter() - t0
        body = r.get_data(as_text=True).replace(email, "EMAIL")
        return r.status_code, body.split('name="csrf_token"')[0], elapsed

    known = [attempt(curator.email) for _ in range(2)]
    unknown = [attempt("nobody@example.org") for _ in range(2)]
    assert known[0][0] == unknown[0][0] == 200
    assert known[0][1] == unknown[0][1]
    # Both pay for one Argon2 verification; measured on a shared 2-core machine, so loose.
    k, u = min(t for *_, t in known), min(t for *_, t in unknown)
    assert u > k * 0.5 and k > u * 0.5


def test_a14_sixth_failure_is_throttled_and_other_accounts_are_not(
    client: FlaskClient, curator: CuratorAccount, admin: CuratorAccount
) -> None:
    """A14: five failures in a minute, then the sixth attempt (even correct) is throttled, in both languages."""  # noqa: E501
    for _ in range(5):
        assert sign_in(client, curator.email, "wrong password!!").status_code == 200
    throttled = sign_in(client, curator.email, PASSWORD, headers={"Accept-Language": "en"})
    assert throttled.status_code == 429 and "Too many failed attempts" in throttled.get_data(as_text=True)
    es = sign_in(client, curator.email, PASSWORD, headers={"Accept-Language": "es"})
    assert es.status_code == 429 and "Demasiados intentos" in es.get_data(as_text=True)
    # Stored in the database (shared by every worker), and no address anywhere in it.
    assert db.session.scalar(select(func.count(SignInFailure.id))) == 5
    assert sign_in(client, admin.email).status_code == 302
    with freeze_time(utcnow() + timedelta(seconds=61)):
        other = client.application.test_client()
        assert sign_in(other, curator.email).status_code == 302


def test_a15_oversize_password_refused_before_hashing(
    client: FlaskClient, curator: CuratorAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A15: a 10,000-character password never reaches Argon2 (a spy on argon2-cffi counts calls)."""
    calls = []
    real_verify = argon2.PasswordHasher.verify

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real_verify(self, *args, **kwargs)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    response = sign_in(client, curator.email, "x" * 10_000)
    assert response.status_code == 200 and not calls
    sign_in(client, curator.email, "wrong but short")
    assert calls  # the spy does see ordinary attempts


def test_a15_rehash_on_sign_in_when_parameters_are_old(client: FlaskClient, curator: CuratorAccount) -> None:
    """A15: a hash with legacy parameters is upgraded at the next sign-in."""
    curator.password_hash = argon2.PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    db.session.commit()
    assert sign_in(client, curator.email).status_code == 302
    db.session.rollback()  # end the test's read snapshot (WAL) before looking again
    refreshed = db.session.get(CuratorAccount, curator.id)
    assert refreshed is not None and "m=8192" not in refreshed.password_hash


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "javascript:alert(1)",
        "\t//evil",
    ],
)
def test_a19_next_only_follows_same_site_paths(
    client: FlaskClient, curator: CuratorAccount, target: str
) -> None:
    """A19: open redirects through ?next= are refused."""
    token = csrf(client)
    r = client.post(
        "/curate/sign-in",
        query_string={"next": target},
        data={"email": curator.email, "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location == "/curate/" and "evil" not in location


def test_a19_next_same_site_path_is_followed(client: FlaskClient, curator: CuratorAccount) -> None:
    token = csrf(client)
    r = client.post(
        "/curate/sign-in?next=/curate/collections",
        data={"email": curator.email, "password": PASSWORD, "csrf_token": token},
    )
    assert r.headers["Location"] == "/curate/collections"


def test_disabled_account_cannot_sign_in(client: FlaskClient, curator: CuratorAccount) -> None:
    curator.is_active = False
    db.session.commit()
    assert sign_in(client, curator.email).status_code == 200
    assert not is_signed_in(client)


def test_language_choice_is_a_post_and_sticks(curator_client: FlaskClient) -> None:
    """A16/A18: the interface language is chosen by POST with CSRF; unknown values are ignored."""
    assert post(curator_client, "/curate/language", {"lang": "en", "next": "/curate/"}).status_code == 302
    assert "Review queue" in curator_client.get("/curate/", headers={"Accept-Language": "es"}).get_data(
        as_text=True
    )
    post(curator_client, "/curate/language", {"lang": "../../x", "next": "https://evil"})
    assert "Review queue" in curator_client.get("/curate/").get_data(as_text=True)
    assert curator_client.post("/curate/language", data={"lang": "es"}).status_code == 400
    post(curator_client, "/curate/language", {"lang": "es"})
    assert "Cola de revisión" in curator_client.get("/curate/").get_data(as_text=True)


def test_admin_creates_and_disables_accounts(admin_client: FlaskClient, client: FlaskClient) -> None:
    r = post(
        admin_client,
        "/curate/admin/accounts",
        {"email": "nueva@example.org", "password": "a long enough password", "role": "curator"},
        page="/curate/admin/accounts",
    )
    assert r.status_code == 302
    account = db.session.scalar(select(CuratorAccount).where(CuratorAccount.email == "nueva@example.org"))
    assert account is not None and account.role == Role.CURATOR
    short = post(
        admin_client,
        "/curate/admin/accounts",
        {"email": "otra@example.org", "password": "short", "role": "curator"},
        page="/curate/admin/accounts",
    )
    assert short.status_code == 422
    long = post(
        admin_client,
        "/curate/admin/accounts",
        {"email": "otra@example.org", "password": "y" * 10_000, "role": "curator"},
        page="/curate/admin/accounts",
    )
    assert long.status_code == 422
    assert (
        post(
            admin_client, f"/curate/admin/accounts/{account.id}/disable", page="/curate/admin/accounts"
        ).status_code
        == 302
    )
    db.session.rollback()
    db.session.refresh(account)
    assert not account.is_active


def test_a09_production_cookie_flags_at_sign_in(app_config: dict, curator: CuratorAccount) -> None:
    """A09: outside development the session cookie is __Host-, Secure, HttpOnly and SameSite=Lax."""
    from nuevonorte import create_app

    config = {k: v for k, v in app_config.items() if k != "TESTING"}
    production = create_app(config)
    client = production.test_client()
    # Flask-WTF checks the Referer on HTTPS (WTF_CSRF_SSL_STRICT). NB: the site-wide
    # "Referrer-Policy: no-referrer" makes browsers send none — reported to the integrator.
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/curate/sign-in"}}
    page = client.get("/curate/sign-in", **https).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/curate/sign-in", data={"email": curator.email, "password": PASSWORD, "csrf_token": token}, **https
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    with production.app_context():
        db.engine.dispose()
