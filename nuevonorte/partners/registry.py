"""Adding, looking at and removing partner archives (the admin screen and ``nuevonorte partners``).

Adding one is two steps: ``identify`` fetches what the partner says of itself (its name, its
software, how many public stories) for the admin to confirm; ``add`` keeps it and asks for its
first harvest (which also subscribes to its withdrawal notices). ``allow`` keeps a partner that
only wants our notices (it harvests us; we do not show its stories).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from nuevonorte import audit
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.models import CuratorAccount, JobKind, Partner, PartnerStory
from nuevonorte.partners import address, client, holdings

OAI = "{http://www.openarchives.org/OAI/2.0/}"


@dataclass(frozen=True)
class Identity:
    url: str
    name: str
    protocol: str  # "nuevonorte" or "oai"
    stories: int | None  # how many public stories it says it has (None: it does not say)


def normalised(url: str) -> str:
    """``url`` as a partner's address (``address.BadAddress`` when it cannot be one)."""
    return address.normalised(url, allow_http=bool(current_app.config["DEBUG"]))


def identify(url: str) -> Identity:
    """What the archive at ``url`` says of itself. Raises ``address.BadAddress`` or
    ``client.Unreachable``."""
    base = normalised(url)
    try:
        answer = client.get_json(address.endpoint(base, "/api/v1/archive"))
        body = answer.body if isinstance(answer.body, dict) else {}
        if body.get("software") == "nuevonorte":
            stories = body.get("stories")
            try:
                name = holdings.text(body.get("name"), "label") or base
            except holdings.BadStory:
                raise client.Unreachable("bad_answer") from None
            return Identity(base, name, "nuevonorte", stories if isinstance(stories, int) else None)
    except client.Unreachable as unreachable:
        if unreachable.code not in ("bad_status", "not_json"):
            raise
    root = client.get_xml(address.endpoint(base, "/oai", verb="Identify"))
    repository = root.findtext(f"{OAI}Identify/{OAI}repositoryName")
    if repository is None:
        raise client.Unreachable("not_oai")
    return Identity(base, holdings.text(repository.strip(), "label") or base, "oai", None)


def add(identity: Identity, curator: CuratorAccount | None = None) -> Partner:
    """Keep a partner whose stories we show (or make a known one harvested) and ask for its
    first harvest, in the caller's transaction."""
    partner = db.session.scalar(select(Partner).where(Partner.url == identity.url))
    if partner is None:
        partner = Partner(url=identity.url, cursor="", key_in="", key_out="", pushed_seq=0, last_error="")
        db.session.add(partner)
    partner.name, partner.protocol, partner.harvested = identity.name, identity.protocol, True
    partner.expired = False
    db.session.flush()
    records.request_partner_job(db.session(), JobKind.PARTNER_HARVEST, partner.id)
    audit.record("partner.added", "partner", str(partner.id), actor=curator)
    return partner


def allow(url: str, curator: CuratorAccount | None = None) -> Partner:
    """Keep a partner that may subscribe to our withdrawal notices (it harvests us)."""
    base = normalised(url)
    partner = db.session.scalar(select(Partner).where(Partner.url == base))
    if partner is None:
        partner = Partner(
            url=base,
            name=base,
            harvested=False,
            cursor="",
            key_in="",
            key_out="",
            pushed_seq=0,
            last_error="",
        )
        db.session.add(partner)
        db.session.flush()
        audit.record("partner.allowed", "partner", str(partner.id), actor=curator)
    return partner


def remove(partner: Partner, curator: CuratorAccount | None = None) -> list[int]:
    """Forget a partner and every story of it (in the caller's transaction); returns the story
    ids to take out of the index after the commit."""
    ids = list(db.session.scalars(select(PartnerStory.id).where(PartnerStory.partner_id == partner.id)))
    gone = holdings.remove_all_but(partner, set())
    audit.record("partner.removed", "partner", str(partner.id), actor=curator)
    db.session.delete(partner)
    return sorted(set(ids) | set(gone))


def story_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(PartnerStory.partner_id, func.count(PartnerStory.id)).group_by(PartnerStory.partner_id)
    ).all()
    return {partner_id: count for partner_id, count in rows}


def all_partners() -> list[Partner]:
    return list(db.session.scalars(select(Partner).order_by(Partner.name, Partner.id)))
