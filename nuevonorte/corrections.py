"""Curators correcting a story's text, with the narrator's words kept as they told them.

A correction (a typo, a name spelled two ways, a transcription slip in a typed-up paper form)
is stored beside the text as told (``story.body_corrected``); the archive shows, indexes and
translates the corrected text, while the narrator reads their own words in "my stories" and
curators see both. Because paragraphs are what withheld passages point at, a correction changes
words inside paragraphs, never how many there are, and every withheld word must still be found
in its paragraph: otherwise it is refused and nothing changes. A translation of a corrected
paragraph is hidden until someone checks it (``translations``: it follows its original).
"""

from __future__ import annotations

from flask_babel import gettext as _

from nuevonorte import audit, ledger, withheld_words
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Story, StoryStatus
from nuevonorte.models.story import split_paragraphs
from nuevonorte.stories import refuse_if_withdrawn

MAX_CHARS = 200_000


class CorrectionRefused(Exception):
    """The correction was not accepted; ``message`` says why, for the curator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def correct(story: Story, paragraphs: list[str], curator: CuratorAccount | None) -> None:
    """Show ``paragraphs`` instead of the text as told (the same paragraphs as told: no
    correction); the caller commits. Refused, with nothing changed, when the number of
    paragraphs differs, one is empty or holds a blank line, or a withheld word is not in it."""
    refuse_if_withdrawn(story)
    cleaned = [p.replace("\r\n", "\n").strip() for p in paragraphs]
    count = len(story.paragraphs())
    if len(cleaned) != count:
        keep = _("A correction keeps the %(num)d paragraphs: change words in them, not how many.", num=count)
        raise CorrectionRefused(keep)
    if sum(len(p) for p in cleaned) > MAX_CHARS:
        raise CorrectionRefused(_("The text is too long (up to %(num)d characters).", num=MAX_CHARS))
    for n, text in enumerate(cleaned, start=1):
        if split_paragraphs(text) != [text]:
            raise CorrectionRefused(_("Paragraph %(n)d is empty or has a blank line inside.", n=n))
    for index, text in enumerate(cleaned):
        passages = withheld_words.withheld(story, withheld_words.TOLD, index)
        missing = [p for p in passages if withheld_words.mask(text, [p]) is None]
        if missing:
            raise CorrectionRefused(
                _(
                    "Paragraph %(n)d no longer has the withheld words “%(words)s”: keep them, or stop"
                    " withholding them on the description page first.",
                    n=index + 1,
                    words=missing[0],
                )
            )
    before = story.paragraphs()
    story.body_corrected = "" if cleaned == story.told_paragraphs() else "\n\n".join(cleaned)
    if story.paragraphs() == before:
        return
    if story.status == StoryStatus.PUBLISHED:
        ledger.record(ledger.HIDDEN, story)  # an older backup holds the story back, not the old words
    db.session.flush()
    audit.record("story.corrected", "story", story.public_id, actor=curator)
