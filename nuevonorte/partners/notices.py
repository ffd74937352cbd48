"""Subscriptions and signed withdrawal notices, both ways.

**Subscribing** (we, B, to a partner A we harvest): we draw a key, keep it (``key_in``) and send
it with our public address to A's ``POST /api/v1/partners/subscribe``. A accepts only an address
its own admin added as a partner, and only after asking that address itself (``GET
/api/v1/partners/confirm``) whether it holds a key with that digest: nobody can set the key of an
archive they do not run. A keeps it (``key_out``) and signs with it every notice it sends us.

**Notices** (we, A, to every partner that subscribed): when our stories change, a
``partner_notice`` job (one waiting per partner at most) sends the ids of every story removed
from our change feed since the last notice that partner accepted, and of those changed while
public. Signed: HMAC-SHA256 of ``<unix time>.<body>`` with that partner's key. Retried by the
queue with a growing delay; a partner that cannot be told still learns at its next harvest.

**Receiving** one (B): checked (a partner we harvest, a key we gave it, a signature that
matches, a time within five minutes), then the removed stories are deleted and the changed ones
hidden until read again, at once, and a harvest is asked for. A notice can only ever remove or
hide: replayed or late, it shows nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from nuevonorte import changes, faults
from nuevonorte.database import write_transaction
from nuevonorte.extensions import db
from nuevonorte.models import Job, JobKind, JobState, Partner
from nuevonorte.models.base import utcnow
from nuevonorte.partners import address, client, holdings
from nuevonorte.search import sync

#: How far a notice's time may be from ours.
SKEW_SECONDS = 300
#: Ids in one notice at most (more go in the next).
MAX_IDS = 1000
HEADER_FROM = "X-NuevoNorte-From"
HEADER_TIME = "X-NuevoNorte-Time"
HEADER_SIGNATURE = "X-NuevoNorte-Signature"


class Refused(Exception):
    def __init__(self, code: str, status: int = 403) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


def our_url() -> str:
    url = str(current_app.config["PUBLIC_URL"])
    if not url:
        raise client.Unreachable("no_public_url")
    return url


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def signature(key: str, stamp: str, body: bytes) -> str:
    return hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def find(url: str) -> Partner | None:
    try:
        wanted = address.normalised(url, allow_http=True)
    except address.BadAddress:
        return None
    return db.session.scalar(select(Partner).where(Partner.url == wanted))


# --- we subscribe to a partner we harvest --------------------------------------------------------


#: How often a subscription is asked for again: the partner may have forgotten it (its admin
#: removed and added us again, or it restored an older backup), and would then tell us nothing.
RESUBSCRIBE = timedelta(days=1)


def subscription_due(partner: Partner) -> bool:
    return (
        not partner.subscribed
        or partner.subscribed_at is None
        or partner.subscribed_at < utcnow() - RESUBSCRIBE
    )


def subscribe(partner_id: int) -> bool:
    """Ask the partner to send us its withdrawal notices; True when it accepted. Raises
    ``client.Unreachable`` when it could not be asked or refused (its code says why)."""
    with write_transaction():
        partner = db.session.get(Partner, partner_id)
        if partner is None or not partner.harvested:
            db.session.rollback()
            return False
        if not partner.key_in:
            partner.key_in = secrets.token_hex(32)
        key, base = partner.key_in, partner.url
        db.session.commit()
    body = json.dumps({"url": our_url(), "key": key}).encode()
    try:
        client.post_json(address.endpoint(base, "/api/v1/partners/subscribe"), body, {})
    except client.Unreachable as refused:
        if refused.status == 403:  # it does not (or no longer) accept us: say so on our side
            with write_transaction():
                partner = db.session.get(Partner, partner_id)
                if partner is not None:
                    partner.subscribed = False
                db.session.commit()
        raise
    with write_transaction():
        partner = db.session.get(Partner, partner_id)
        if partner is not None and partner.key_in == key:
            partner.subscribed, partner.subscribed_at = True, utcnow()
        db.session.commit()
    return True


def confirms(origin: str, wanted_digest: str) -> bool:
    """Whether we asked ``origin`` for notices with a key of that digest (its check of us)."""
    partner = find(origin)
    return (
        partner is not None
        and partner.harvested
        and bool(partner.key_in)
        and hmac.compare_digest(digest(partner.key_in), wanted_digest)
    )


# --- a partner subscribes to us ------------------------------------------------------------------


#: A subscription is checked at the subscriber's address at most this often per partner: anyone
#: may ask, and each check is a request of ours to that partner.
CHECK_EVERY_SECONDS = 10.0
_checked_lock = threading.Lock()


def _may_check(url: str) -> bool:
    """Whether this worker may check a subscription at ``url`` now (failed or not, at most once
    every ``CHECK_EVERY_SECONDS``)."""
    now = time.monotonic()
    checked: dict[str, float] = current_app.extensions.setdefault("nuevonorte.partner_checks", {})
    with _checked_lock:
        if now - checked.get(url, -CHECK_EVERY_SECONDS) < CHECK_EVERY_SECONDS:
            return False
        checked[url] = now
        return True


def accept(data: Any) -> None:
    """A partner asks for our notices. ``Refused`` unless our admin added it and it proves, at
    its own address, that the key is its own."""
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("url"), str)
        or not isinstance(data.get("key"), str)
    ):
        raise Refused("bad_request", 400)
    key = data["key"]
    if not 32 <= len(key) <= 64 or not key.isalnum():
        raise Refused("bad_request", 400)
    partner = find(data["url"])
    if partner is None:
        raise Refused("not_a_partner")
    base = partner.url
    db.session.rollback()
    if not _may_check(base):
        raise Refused("too_soon", 429)
    confirm = address.endpoint(base, "/api/v1/partners/confirm", **{"from": our_url(), "digest": digest(key)})
    try:
        answer = client.get_json(confirm)
    except client.Unreachable:
        raise Refused("not_confirmed") from None
    if not isinstance(answer.body, dict) or answer.body.get("confirmed") is not True:
        raise Refused("not_confirmed")
    with write_transaction():
        partner = db.session.scalar(select(Partner).where(Partner.url == base))
        if partner is None:
            raise Refused("not_a_partner")
        if partner.key_out != key:
            partner.key_out = key
            partner.pushed_seq = changes.last_seq()  # what came before, it learns by harvesting
        from nuevonorte import audit

        audit.record("partner.subscribed", "partner", str(partner.id))
        db.session.commit()


# --- we tell subscribed partners -----------------------------------------------------------------


def request_pushes(session: Session) -> None:
    """In a transaction that numbered public changes: a notice job for every subscribed partner
    that has none waiting (``jobs.records`` hands it to the queue after the commit)."""
    from nuevonorte.jobs import records

    subscribed = session.scalars(select(Partner.id).where(Partner.key_out != "")).all()
    for partner_id in subscribed:
        waiting = session.scalar(
            select(Job.id).where(
                Job.partner_id == partner_id, Job.kind == JobKind.PARTNER_NOTICE, Job.state == JobState.QUEUED
            )
        )
        if waiting is None:
            records.request_partner_job(session, JobKind.PARTNER_NOTICE, partner_id)


def push(partner_id: int) -> int:
    """Tell the partner which of our stories changed since the last notice it accepted: those
    that left public view (it deletes them) and those that changed while public (it hides them
    until it has read them again: a narrower consent, a withheld passage). Returns how many were
    named. Raises ``client.Unreachable`` (the queue retries)."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or not partner.key_out:
        db.session.rollback()
        return 0
    base, key, cursor = partner.url, partner.key_out, partner.pushed_seq
    ceiling = changes.last_seq()
    removed: list[str] = []
    changed: list[str] = []
    while cursor < ceiling and len(removed) + len(changed) < MAX_IDS:
        entries, more = changes.read(cursor, MAX_IDS - len(removed) - len(changed))
        for entry in entries:
            if entry.kind is changes.Kind.STORY and entry.change is changes.Change.REMOVED:
                removed.append(entry.public_id)
            elif entry.kind is changes.Kind.STORY and entry.change is changes.Change.UPDATED:
                changed.append(entry.public_id)
        # Only as far as what this notice names: the rest goes in the next one.
        cursor = entries[-1].seq if entries else ceiling
        if not more:
            break
    db.session.rollback()
    if removed or changed:
        body = json.dumps({"removed": removed, "changed": changed, "through": str(cursor)}).encode()
        stamp = str(int(time.time()))
        headers = {HEADER_FROM: our_url(), HEADER_TIME: stamp, HEADER_SIGNATURE: signature(key, stamp, body)}
        client.post_json(address.endpoint(base, "/api/v1/partners/notices"), body, headers)
        faults.point("partner.notice_sent")  # killed here: sent again next time (it only hides)
    with write_transaction():
        partner = db.session.get(Partner, partner_id)
        if partner is not None and partner.pushed_seq < cursor:
            partner.pushed_seq = cursor
        more_waiting = cursor < changes.last_seq()
        if partner is not None and more_waiting:
            from nuevonorte.jobs import records

            records.request_partner_job(db.session(), JobKind.PARTNER_NOTICE, partner_id)
        db.session.commit()
    return len(removed) + len(changed)


# --- a partner tells us --------------------------------------------------------------------------


def receive(headers: Any, body: bytes) -> int:
    """Apply a signed notice: remove the stories it names. Returns how many were held."""
    partner = find(headers.get(HEADER_FROM, ""))
    if partner is None or not partner.harvested or not partner.key_in:
        raise Refused("not_a_partner")
    stamp = headers.get(HEADER_TIME, "")
    if not (stamp.isdigit() and len(stamp) <= 12) or abs(int(stamp) - time.time()) > SKEW_SECONDS:
        raise Refused("bad_signature")
    if not hmac.compare_digest(signature(partner.key_in, stamp, body), headers.get(HEADER_SIGNATURE, "")):
        raise Refused("bad_signature")
    try:
        data = json.loads(body)
    except ValueError:
        raise Refused("bad_request", 400) from None
    ids = data.get("removed") if isinstance(data, dict) else None
    changed = data.get("changed", []) if isinstance(data, dict) else None
    if not isinstance(ids, list) or not isinstance(changed, list) or len(ids) + len(changed) > MAX_IDS:
        raise Refused("bad_request", 400)
    partner_id = partner.id
    db.session.rollback()
    with write_transaction():
        partner = db.session.get(Partner, partner_id)
        assert partner is not None
        # A harvest that fetched a story before this notice will fetch its page again.
        partner.notice_seq += 1
        gone = holdings.remove(partner, [i for i in ids if isinstance(i, str)])
        gone += holdings.hide(partner, [i for i in changed if isinstance(i, str)])
        from nuevonorte.jobs import records

        records.request_partner_job(db.session(), JobKind.PARTNER_HARVEST, partner_id)
        db.session.commit()
    faults.point("partner.notice_committed")  # killed here: the harvest it asked for reconciles
    sync.follow_now()
    return len(gone)
