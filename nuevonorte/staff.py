"""Staff sign-in: server-side sessions, throttling of failures, and account administration.

A signed-in browser carries a random token in its (signed) cookie; the database keeps only
the token's hash in ``staff_session``. Deleting that row — at sign-out, on a password or
role change, when the account is disabled — turns every copy of the old cookie anonymous.
Failed sign-ins are counted per account in the database (so all workers share the count),
keyed by an HMAC of the email typed: an unknown address is throttled exactly like a known one.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, func, select

from nuevonorte import audit
from nuevonorte.accounts import MAX_PASSWORD_LENGTH, check_password, hasher, normalize_email
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Role, SignInFailure, StaffSession, utcnow

#: Failures allowed per account within the window; the next attempt is throttled (A14).
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(seconds=60)
DEFAULT_IDLE_MINUTES = 30

# Verified against for unknown accounts, so both answers cost one Argon2 verification (A13).
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


class SignIn(enum.StrEnum):
    """The outcome of a sign-in attempt."""

    OK = "ok"
    FAILED = "failed"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignInResult:
    """What ``authenticate`` decided, with the new session token on success."""

    outcome: SignIn
    account: CuratorAccount | None = None
    token: str | None = None


def idle_limit() -> timedelta:
    """How long a staff session may stay unused before it ends."""
    return timedelta(minutes=int(current_app.config.get("CURATOR_IDLE_MINUTES", DEFAULT_IDLE_MINUTES)))


def _failure_key(email: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, normalize_email(email).encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_throttled(email: str, now: datetime | None = None) -> bool:
    """Whether sign-in for ``email`` is paused after too many recent failures."""
    since = (now or utcnow()) - FAILURE_WINDOW
    count = db.session.scalar(
        select(func.count(SignInFailure.id)).where(
            SignInFailure.key_hash == _failure_key(email), SignInFailure.at > since
        )
    )
    return (count or 0) >= MAX_FAILURES


def authenticate(email: str, password: str) -> SignInResult:
    """Check credentials and open a session; the caller commits.

    Unknown account, disabled account and wrong password give the same FAILED answer after
    one Argon2 verification each. A password over the maximum is refused before hashing (A15).
    """
    now = utcnow()
    db.session.execute(delete(SignInFailure).where(SignInFailure.at <= now - FAILURE_WINDOW))
    if is_throttled(email, now):
        return SignInResult(SignIn.THROTTLED)
    if len(password) > MAX_PASSWORD_LENGTH:
        db.session.add(SignInFailure(key_hash=_failure_key(email), at=now))
        return SignInResult(SignIn.FAILED)
    account = db.session.scalar(select(CuratorAccount).where(CuratorAccount.email == normalize_email(email)))
    ok = _verify(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not ok or not account.is_active:
        db.session.add(SignInFailure(key_hash=_failure_key(email), at=now))
        return SignInResult(SignIn.FAILED)
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    db.session.execute(delete(SignInFailure).where(SignInFailure.key_hash == _failure_key(email)))
    token = open_session(account)
    audit.record("account.signed_in", "account", str(account.id), actor=account)
    return SignInResult(SignIn.OK, account, token)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(account: CuratorAccount) -> str:
    """Create a server-side session for ``account`` and return its token (for the cookie)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(token_hash=_token_hash(token), account=account, session_version=account.session_version)
    )
    db.session.flush()
    return token


def load_session(token: str) -> tuple[StaffSession | None, int | None]:
    """The live session for ``token`` (touched); or, when it just expired from idleness, None
    and the id of its account (whose post may be kept as a draft: ``nuevonorte.drafts``). An
    ended session is deleted; the caller commits (``curate.auth``, at the request's edge)."""
    found = db.session.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    if found is None:
        return None, None
    account = found.account
    now = utcnow()
    if not account.is_active or account.session_version != found.session_version:
        db.session.delete(found)
        return None, None
    if now - found.last_seen_at > idle_limit():
        db.session.delete(found)
        return None, account.id
    # Touch at most once a minute so reads do not write on every request.
    if now - found.last_seen_at > timedelta(minutes=1):
        found.last_seen_at = now
    return found, None


def close_session(token: str) -> None:
    """End the session for ``token``; the caller commits."""
    db.session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def end_all_sessions(account: CuratorAccount) -> None:
    """End every session of ``account`` (a password, role or status change); caller commits."""
    account.session_version += 1
    db.session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))


def set_role(account: CuratorAccount, role: Role, by: CuratorAccount) -> None:
    """Change an account's role; its sessions end (A11)."""
    if account.role == role:
        return
    account.role = role
    end_all_sessions(account)
    db.session.flush()
    audit.record("account.role_changed", "account", str(account.id), actor=by)


def set_active(account: CuratorAccount, active: bool, by: CuratorAccount) -> None:
    """Enable or disable an account; disabling ends its sessions (A11)."""
    if account.is_active == active:
        return
    account.is_active = active
    end_all_sessions(account)
    db.session.flush()
    audit.record("account.enabled" if active else "account.disabled", "account", str(account.id), actor=by)


def set_password(account: CuratorAccount, password: str, by: CuratorAccount) -> None:
    """Set a new password (length checked before hashing); every session ends (A11)."""
    check_password(password)
    account.password_hash = hasher.hash(password)
    end_all_sessions(account)
    db.session.flush()
    audit.record("account.password_changed", "account", str(account.id), actor=by)


def change_own_password(account: CuratorAccount, current: str, new: str) -> SignIn:
    """A person changes their own password, proving the current one; the caller commits.

    A wrong current password counts as a failed sign-in for the account (so it is throttled
    like sign-in, A14) and changes nothing. On success every session of the account ends,
    the one making the change too. The new password's length is checked (AccountError).
    """
    now = utcnow()
    if is_throttled(account.email, now):
        return SignIn.THROTTLED
    if len(current) > MAX_PASSWORD_LENGTH or not _verify(account.password_hash, current):
        db.session.add(SignInFailure(key_hash=_failure_key(account.email), at=now))
        return SignIn.FAILED
    set_password(account, new, account)
    return SignIn.OK
