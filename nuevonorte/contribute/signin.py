"""Who is signed in to "my stories" on this device: a contributor id and an expiry, nothing more.

The receipt code itself never goes into the session (or any log): after it is checked, only
the contributor's internal id and a short expiry are kept in the signed session cookie.
"""

from __future__ import annotations

import time

from flask import session

from nuevonorte.extensions import db
from nuevonorte.models import Contributor

#: How long a device stays signed in after the last use, in seconds.
SIGNED_IN_FOR = 30 * 60
_KEY = "contributor"


def sign_in(contributor: Contributor) -> None:
    """Remember ``contributor`` on this device for a short while."""
    session[_KEY] = {"id": contributor.id, "until": int(time.time()) + SIGNED_IN_FOR}


def forget() -> None:
    """Forget the contributor on this device at once."""
    session.pop(_KEY, None)


def current() -> Contributor | None:
    """The signed-in contributor, or None; each use extends the short expiry."""
    value = session.get(_KEY)
    if not isinstance(value, dict) or not isinstance(value.get("id"), int):
        return None
    if not isinstance(value.get("until"), int) or value["until"] < time.time():
        forget()
        return None
    contributor = db.session.get(Contributor, value["id"])
    if contributor is None:
        forget()
        return None
    sign_in(contributor)
    return contributor
