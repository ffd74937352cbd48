"""The one rule for which partner stories may be shown here.

A partner story is shown while its origin has not said it changed since it was read (``stale``),
its partner is one this archive harvests, and the origin has confirmed it recently: the last
harvest that read the origin's changes to their end was less than ``PARTNER_CONFIRM_SECONDS``
ago. Withdrawn at the origin, a story is not hidden but deleted (``holdings.remove``); this rule
is what fails closed when a partner goes silent, so that a story never outlives a withdrawal
this archive could not hear of.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select

from nuevonorte.models import Partner, PartnerStory
from nuevonorte.models.base import utcnow


def confirmed_since(now: datetime | None = None) -> datetime:
    """The oldest confirmation still good enough."""
    return (now or utcnow()) - timedelta(seconds=int(current_app.config["PARTNER_CONFIRM_SECONDS"]))


def partner_is_fresh(partner: Partner, now: datetime | None = None) -> bool:
    return (
        partner.harvested
        and partner.confirmed_at is not None
        and partner.confirmed_at >= confirmed_since(now)
    )


def story_is_shown(story: PartnerStory, now: datetime | None = None) -> bool:
    return not story.stale and partner_is_fresh(story.partner, now)


def shown_stories(now: datetime | None = None) -> Select[Any]:
    """Partner stories that may be shown now (the SQL form of ``story_is_shown``)."""
    return (
        select(PartnerStory)
        .join(Partner, Partner.id == PartnerStory.partner_id)
        .where(
            Partner.harvested.is_(True),
            Partner.confirmed_at >= confirmed_since(now),
            PartnerStory.stale.is_(False),
        )
    )
