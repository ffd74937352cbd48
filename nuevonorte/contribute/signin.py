"""Who is signed in to "my stories" on this device: a server-side session, ended everywhere at once.

The device's signed session cookie holds a random token; the server keeps only its hash, the
contributor's id and a short expiry (``ContributorSession``). The receipt code itself never
goes into the session, the cookie or any log. "Forget me" deletes every session of the
contributor, so a copy of the cookie made before it signs nobody in (docs/security.md C16).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import g, session
from sqlalchemy import delete, select

from nuevonorte.extensions import db
from nuevonorte.models import Contributor, ContributorSession
from nuevonorte.models.base import utcnow

#: How long a device stays signed in after the last use.
SIGNED_IN_FOR = timedelta(minutes=30)
_KEY = "contributor"


def token_hash(token: str) -> str:
    """The stored form of a device's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(contributor: Contributor) -> None:
    """Remember ``contributor`` on this device for a short while (a new token: no fixation)."""
    _end_this_device()
    sweep()
    token = secrets.token_urlsafe(32)
    db.session.add(
        ContributorSession(
            token_hash=token_hash(token), contributor_id=contributor.id, expires_at=utcnow() + SIGNED_IN_FOR
        )
    )
    session[_KEY] = token
    g.pop("_contributor", None)


def sign_out() -> None:
    """End this device's session only (the next person on a shared phone starts afresh)."""
    _end_this_device()


def forget(contributor: Contributor | None) -> None:
    """Forget the contributor on this device and end every other session of theirs."""
    _end_this_device()
    if contributor is not None:
        db.session.execute(
            delete(ContributorSession).where(ContributorSession.contributor_id == contributor.id)
        )


def current() -> Contributor | None:
    """The signed-in contributor, or None; each use extends the short expiry."""
    if "_contributor" in g:
        return g._contributor  # type: ignore[no-any-return]
    contributor = None
    token = session.get(_KEY)
    if isinstance(token, str):
        row = db.session.scalar(
            select(ContributorSession).where(ContributorSession.token_hash == token_hash(token))
        )
        now = utcnow()
        if row is None or row.expires_at < now:
            session.pop(_KEY, None)
        else:
            contributor = db.session.get(Contributor, row.contributor_id)
            # Touched at most once a minute, so that reading pages rarely writes (as staff.py).
            if contributor is not None and row.expires_at - now < SIGNED_IN_FOR - timedelta(minutes=1):
                row.expires_at = now + SIGNED_IN_FOR
                db.session.commit()
    g._contributor = contributor
    return contributor


def sweep() -> int:
    """Delete expired sessions; returns how many."""
    result = db.session.execute(delete(ContributorSession).where(ContributorSession.expires_at < utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _end_this_device() -> None:
    token = session.pop(_KEY, None)
    g.pop("_contributor", None)
    if isinstance(token, str):
        db.session.execute(
            delete(ContributorSession).where(ContributorSession.token_hash == token_hash(token))
        )
