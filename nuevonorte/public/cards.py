"""What a story's card shows besides its words, in listings and search results: a thumbnail
the public may see, and the story's content warnings. Both come from the database through
the consent rule, never from the search index."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import selectinload

from nuevonorte import consent
from nuevonorte.content_warnings import labels
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaKind, Story


def card_image(story: Story) -> MediaFile | None:
    """The first image of ``story`` the public may see that has a thumbnail, or None.

    None for a story with a content warning: its story page holds everything back until the
    visitor chooses to go on, and a photo may be what the warning is about.
    """
    if story.warning_codes():
        return None
    return next(
        (
            media
            for media in story.media
            if media.kind == MediaKind.IMAGE and media.thumbnail_key and consent.media_is_public(media)
        ),
        None,
    )


def card_warnings(story: Story) -> list[str]:
    """The story's content warnings, as localized labels."""
    return labels(story.warning_codes())


#: What a card reads (``card_image``, ``card_warnings``), loaded with the stories in one query each.
CARD_LOADS = (selectinload(Story.media), selectinload(Story.consents))


def public_stories_by_id(public_ids: Iterable[str]) -> dict[str, Story]:
    """The stories among ``public_ids`` that are public today, by public id (one query, with
    their media and consent history loaded for ``card_image``)."""
    wanted = list(public_ids)
    if not wanted:
        return {}
    found = db.session.scalars(
        consent.public_stories().where(Story.public_id.in_(wanted)).options(*CARD_LOADS)
    )
    return {story.public_id: story for story in found}
