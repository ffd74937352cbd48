"""One story per sent form, and a receipt page that can be reloaded (post/redirect/get).

The contribution form carries a random token (``new_token``), made when the form is first
shown and kept through every error and language switch. When the form is sent, the new
story is recorded under the token's hash (``Submission``): sending the same form again —
a reload of an old POST, Back then Send, a double tap — finds it and makes no second story.

The new receipt code is kept only sealed: encrypted (Fernet) with a key derived from the
token, which the server does not keep. The device holds the token (in its signed session
cookie, for the receipt page) until the person says they wrote the code down; then, or after
``SHOWN_FOR`` at the latest, the sealed copy is erased and the code exists nowhere in the
archive but as its slow hash (docs/security.md C15).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select, update

from nuevonorte.extensions import db
from nuevonorte.models import Story, Submission
from nuevonorte.models.base import utcnow

#: How long a sealed code may be shown again on the receipt page.
SHOWN_FOR = timedelta(hours=1)
#: How long a sent form is remembered (a second POST of it makes no second story).
REMEMBERED_FOR = timedelta(days=2)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    """A fresh form token (256 bits)."""
    return secrets.token_urlsafe(32)


def valid_token(token: object) -> bool:
    """Whether ``token`` looks like one ``new_token`` made (anything else is ignored)."""
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def _hash(token: str) -> str:
    return hashlib.sha256(b"nuevonorte/submission/" + token.encode()).hexdigest()


def _fernet(token: str) -> Fernet:
    key = hashlib.sha256(b"nuevonorte/receipt-seal/" + token.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def find(token: str) -> Submission | None:
    """The submission sent with ``token``, if any."""
    return db.session.scalar(select(Submission).where(Submission.token_hash == _hash(token)))


def record(token: str, story: Story, code: str | None) -> None:
    """Remember that ``token``'s form made ``story`` (flushed: a second one conflicts)."""
    sealed = _fernet(token).encrypt(code.encode()) if code else None
    db.session.add(Submission(token_hash=_hash(token), story=story, sealed_code=sealed))
    db.session.flush()


def code(submission: Submission, token: str) -> str | None:
    """The receipt code, while it may still be shown; None once written down or expired."""
    if submission.sealed_code is None or utcnow() - submission.created_at > SHOWN_FOR:
        return None
    try:
        return _fernet(token).decrypt(submission.sealed_code).decode()
    except InvalidToken:
        return None


def written_down(token: str) -> None:
    """Erase the sealed code of ``token``'s submission (the person wrote it down)."""
    db.session.execute(
        update(Submission).where(Submission.token_hash == _hash(token)).values(sealed_code=None)
    )


def sweep() -> None:
    """Erase sealed codes past ``SHOWN_FOR`` and forget forms past ``REMEMBERED_FOR``."""
    now = utcnow()
    db.session.execute(
        update(Submission)
        .where(Submission.created_at < now - SHOWN_FOR, Submission.sealed_code.is_not(None))
        .values(sealed_code=None)
    )
    db.session.execute(delete(Submission).where(Submission.created_at < now - REMEMBERED_FOR))
