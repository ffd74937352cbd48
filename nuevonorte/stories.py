"""Domain operations on stories: submit, publish, unpublish, change consent, withdraw.

These are the only functions that change a story's status or consent. They check the rules,
flush, and leave the commit to the caller (a view or CLI command), so that a multi-step change
— withdraw, delete files, write the audit event — commits or fails as one. ``curator`` is the
signed-in account acting, or None for the system itself (the demo loader, admin commands).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from nuevonorte import audit, database, drafts, ledger, paper_forms, sensitive, withheld_words
from nuevonorte.consent import CONSENT_TEXT_VERSION, ConsentChoices, widenings
from nuevonorte.extensions import db
from nuevonorte.jobs.records import cancel_for_media
from nuevonorte.models import (
    PERMISSIONS,
    ActorKind,
    CollectionEntry,
    ConsentRecord,
    Contributor,
    Credit,
    CuratorAccount,
    GivenBy,
    JobKind,
    MediaFile,
    Place,
    Story,
    StoryStatus,
    Theme,
    Visibility,
)
from nuevonorte.models.base import today
from nuevonorte.models.media import KEY_COLUMNS
from nuevonorte.models.story import title_field
from nuevonorte.storage import delete_after_commit, get_storage


class Refusal(enum.StrEnum):
    """Why the archive refused a change of state."""

    WITHDRAWN = "withdrawn"
    NO_PUBLIC_CONSENT = "no_public_consent"
    CURATOR_CANNOT_WIDEN = "curator_cannot_widen"
    NOT_REVIEWABLE = "not_reviewable"
    NOT_THIS_STORY = "not_this_story"
    SENSITIVE_UNDECIDED = "sensitive_undecided"


REFUSAL_MESSAGES = {
    Refusal.WITHDRAWN: _l(
        "This story was withdrawn by its narrator. It cannot be published or changed again."
    ),
    Refusal.NO_PUBLIC_CONSENT: _l(
        "The narrator has not agreed to make this story public, so it cannot be published."
    ),
    Refusal.CURATOR_CANNOT_WIDEN: _l(
        "Curators may only narrow what a narrator allowed. Only the narrator can widen it."
    ),
    Refusal.NOT_REVIEWABLE: _l("This story must be returned to review before it can be published."),
    Refusal.NOT_THIS_STORY: _l("That file does not belong to this story."),
    Refusal.SENSITIVE_UNDECIDED: _l(
        'Some passages may put the narrator at risk. Withhold or keep each one (see "Passages to look at") before publishing.'  # noqa: E501
    ),
}


class StoryRefused(Exception):
    """A state change the rules do not allow; nothing was changed."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason

    @property
    def message(self) -> str:
        """The reason in the active language."""
        return str(REFUSAL_MESSAGES[self.reason])


def submit(
    contributor: Contributor | None,
    *,
    body: str,
    choices: ConsentChoices,
    consent_language: str,
    title: str = "",
    language: str = "es",
    themes: Iterable[Theme] = (),
    places: Iterable[Place] = (),
    paper_form_ref: str = "",
) -> Story:
    """Create a story waiting for review, with its first consent record (and the paper form it
    was given on, for a story imported from a workshop)."""
    story = Story(
        contributor=contributor,
        body=body,
        original_language=language,
        status=StoryStatus.SUBMITTED,
        themes=list(themes),
        places=list(places),
    )
    # The contributor's own title goes in the field of their language; curators translate.
    setattr(story, title_field(language), title)
    db.session.add(story)
    _append_consent(story, choices, GivenBy.CONTRIBUTOR, consent_language).paper_form_ref = paper_form_ref
    db.session.flush()
    audit.record("story.submitted", "story", story.public_id, actor_kind=ActorKind.CONTRIBUTOR)
    return story


def publish(story: Story, curator: CuratorAccount | None) -> None:
    """Publish a reviewed story. Visibility still follows the newest consent and its embargo."""
    refuse_if_withdrawn(story)
    consent = story.current_consent
    if consent is None or consent.visibility != Visibility.PUBLIC:
        # Before the already-published case: a published story its narrator has since narrowed
        # is not public, and "published" would tell the curator it is.
        raise StoryRefused(Refusal.NO_PUBLIC_CONSENT)
    if story.status == StoryStatus.PUBLISHED:
        return
    if story.status == StoryStatus.REJECTED:
        raise StoryRefused(Refusal.NOT_REVIEWABLE)
    if curator is not None and sensitive.undecided(story):
        raise StoryRefused(Refusal.SENSITIVE_UNDECIDED)  # a curator decides each flag first
    story.status = StoryStatus.PUBLISHED
    story.published_on = story.published_on or today()
    _mark_reviewed(story)
    _flush_and_audit("story.published", story, curator)


def unpublish(story: Story, curator: CuratorAccount | None) -> None:
    """Take a story off the public archive and keep it privately."""
    _set_review_status(story, StoryStatus.PRIVATE, "story.unpublished", curator)


def keep_private(story: Story, curator: CuratorAccount | None) -> None:
    """Keep a reviewed story in the archive without publishing it."""
    _set_review_status(story, StoryStatus.PRIVATE, "story.kept_private", curator)


def return_to_review(story: Story, curator: CuratorAccount | None) -> None:
    """Put a story back in the review queue."""
    _set_review_status(story, StoryStatus.SUBMITTED, "story.returned_to_review", curator)


def reject(story: Story, curator: CuratorAccount | None) -> None:
    """Reject a story: it stays with its contributor but never reaches the public."""
    _set_review_status(story, StoryStatus.REJECTED, "story.rejected", curator)


def change_consent(
    story: Story,
    choices: ConsentChoices,
    *,
    language: str,
    curator: CuratorAccount | None = None,
) -> ConsentRecord:
    """Record new consent choices; with ``curator`` given, they may only narrow.

    A contributor who widens consent on a published story sends it back to review: a curator
    looks at what is newly exposed (a voice, photos) before it goes out. Narrowing takes
    effect at once, because the consent rule reads the newest record.
    """
    refuse_if_withdrawn(story, as_committed=True)
    current = story.current_consent
    old = ConsentChoices.of(current) if current else ConsentChoices(visibility=Visibility.CONTRIBUTOR)
    wider = widenings(old, choices)
    if curator is not None and wider:
        raise StoryRefused(Refusal.CURATOR_CANNOT_WIDEN)
    if curator is None and wider and story.status == StoryStatus.PUBLISHED:
        story.status = StoryStatus.SUBMITTED
    if widenings(choices, old):  # something narrower than before: no restore may undo it
        ledger.record(ledger.NARROWED, story)
    if choices.visibility == Visibility.CONTRIBUTOR:
        drafts.forget(story)  # curators may no longer read it, nor what they typed from it
        # ... nor a draft transcript of its recordings: a waiting or running one stops unsaved.
        cancel_for_media([m.id for m in story.media], "private", kinds=(JobKind.DRAFT_TRANSCRIPT,))
    given_by = GivenBy.CURATOR if curator is not None else GivenBy.CONTRIBUTOR
    record = _append_consent(story, choices, given_by, language)
    kind = ActorKind.CURATOR if curator is not None else ActorKind.CONTRIBUTOR
    _flush_and_audit("story.consent_changed", story, curator, kind)
    return record


def withdraw(story: Story, curator: CuratorAccount | None = None) -> None:
    """Withdraw a story at once: delete its content, media files and consent history.

    What remains is a tombstone row (so collections can say the story was withdrawn) and
    the audit event. Withdrawing twice is harmless. Files are deleted after the commit.
    """
    if _as_committed(story) == StoryStatus.WITHDRAWN:
        return
    ledger.record(ledger.WITHDRAWN, story)
    cancel_for_media([media.id for media in story.media])  # a running job stops, unsaved
    _lock_media(story.media)
    keys = [key for media in story.media for key in media.storage_keys()]
    paper_forms.remember_withdrawn(story)  # the same sheet imported again skips it (T18)
    story.media.clear()
    story.consents.clear()
    sensitive.forget(story)
    story.notes.clear()  # curators' internal notes go with the story
    drafts.forget(story)  # and what a curator typed but has not saved yet
    story.translations.clear()
    story.assigned_to = None
    story.note_to_narrator = ""
    story.reviewed_consent_seq = None
    story.themes.clear()
    story.places.clear()
    # The tombstone keeps the public id, the day and its places in collections; nothing else
    # (not who sent it, its language, its warnings, which passages were withheld, or when).
    story.body = story.body_corrected = story.title_es = story.title_en = ""
    story.summary_es = story.summary_en = ""
    story.content_warnings = story.restricted_paragraphs = story.original_language = ""
    withheld_words.forget(story)
    story.period_start = story.period_end = None
    story.contributor = None
    story.status = StoryStatus.WITHDRAWN
    story.withdrawn_on = story.submitted_on = today()
    story.published_on = None
    for entry in db.session.scalars(select(CollectionEntry).where(CollectionEntry.story_id == story.id)):
        entry.text_es = entry.text_en = ""  # a curator's note about the story goes with it
    kind = ActorKind.CURATOR if curator is not None else ActorKind.CONTRIBUTOR
    _flush_and_audit("story.withdrawn", story, curator, kind)
    delete_unreferenced(keys)
    database.checkpoint_after_commit(db.session())


def withdraw_media(story: Story, media: MediaFile) -> None:
    """Withdraw one media file of a story (the contributor's partial withdrawal)."""
    refuse_if_withdrawn(story, as_committed=True)
    if media.story_id != story.id:
        raise StoryRefused(Refusal.NOT_THIS_STORY)
    ledger.record(ledger.MEDIA_WITHDRAWN, story, media)
    cancel_for_media([media.id])
    _lock_media([media])
    keys = media.storage_keys()
    public_id = media.public_id
    story.media.remove(media)
    db.session.flush()
    audit.record("media.withdrawn", "media", public_id, actor_kind=ActorKind.CONTRIBUTOR)
    delete_unreferenced(keys)
    database.checkpoint_after_commit(db.session())  # its transcript leaves the WAL too (T04)


#: What a replayed narrowing leaves: nothing shown to anyone but the narrator. The entry does
#: not say how far the narrator narrowed; the archive errs on the side of showing less, and the
#: narrator may widen it again (a widening goes back to review).
_NOTHING_ALLOWED: dict[str, Any] = dict.fromkeys(PERMISSIONS, False)
NARROWEST = ConsentChoices(visibility=Visibility.CONTRIBUTOR, credit=Credit.ANONYMOUS, **_NOTHING_ALLOWED)


def replay_ledger_entry(kind: str, story_id: str, media_id: str | None) -> None:
    """Make again a change the withdrawal ledger holds and the database does not (a restored
    older backup, a transaction that never committed): ``nuevonorte.ledger.replay``."""
    story = db.session.scalar(select(Story).where(Story.public_id == story_id))
    if story is None or story.status == StoryStatus.WITHDRAWN:
        return  # the backup predates the story, or the change is already stronger
    if kind == ledger.WITHDRAWN:
        withdraw(story)
    elif kind == ledger.MEDIA_WITHDRAWN:
        media = next((m for m in story.media if m.public_id == media_id), None)
        if media is not None:
            withdraw_media(story, media)
    elif kind == ledger.NARROWED:
        current = story.current_consent
        if current is None or ConsentChoices.of(current) != NARROWEST:
            _append_consent(story, NARROWEST, GivenBy.CURATOR, "es")
        drafts.forget(story)  # NARROWEST is "nobody but me"
        if story.status == StoryStatus.PUBLISHED:
            story.status = StoryStatus.SUBMITTED
    elif kind == ledger.HIDDEN and story.status == StoryStatus.PUBLISHED:
        story.status = StoryStatus.SUBMITTED
    db.session.flush()
    audit.record(f"ledger.replayed.{kind}", "story", story.public_id)


# --- helpers ------------------------------------------------------------------------------


def _locked_status(story: Story) -> StoryStatus:
    """The story's status as committed, its row locked until this transaction ends
    (PostgreSQL; a transaction holding the row is waited for). Autoflushed first: what this
    transaction wrote counts too. On SQLite a writer holds the write lock from its first
    statement (``database.write_intent``)."""
    if story.id is None:
        return story.status
    return db.session.execute(select(Story.status).where(Story.id == story.id).with_for_update()).scalar_one()


def _as_committed(story: Story) -> StoryStatus:
    """``_locked_status``, then forget what this request read of the story: a withdrawal or a
    new consent is made on top of whatever committed before it — a curator's publication
    committed meanwhile included — and never fails as stale (the story's version read before
    would no longer match, and the narrator would get an error instead of their withdrawal)."""
    status = _locked_status(story)
    if story.id is not None:
        db.session.expire(story)
    return status


def _lock_media(media: Iterable[MediaFile]) -> None:
    """Lock these rows and read them again before their files are listed (PostgreSQL): a
    background job that recorded a file for one (a silenced copy) has committed by then, or
    waits for this transaction and finds the row gone, so no file escapes the deletion."""
    ids = [m.id for m in media]
    if ids:
        db.session.execute(
            select(MediaFile)
            .where(MediaFile.id.in_(ids))
            .order_by(MediaFile.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()


def _append_consent(story: Story, choices: ConsentChoices, given_by: GivenBy, language: str) -> ConsentRecord:
    seq = story.consents[-1].seq + 1 if story.consents else 1
    record = ConsentRecord(
        seq=seq,
        **(choices.values() | {"credit_name": choices.credit_name.strip()}),
        text_version=CONSENT_TEXT_VERSION,
        text_language=language,
        given_by=given_by,
    )
    story.consents.append(record)
    return record


def _mark_reviewed(story: Story) -> None:
    """Remember the consent a curator decided on: a wider one later is shown as newly exposed
    (``curation.newly_exposed``) and the queue can find it."""
    current = story.current_consent
    story.reviewed_consent_seq = current.seq if current is not None else None


def refuse_if_withdrawn(story: Story, as_committed: bool = False) -> None:
    """Refuse any change to a withdrawn story (``Refusal.WITHDRAWN``), as the database has it:
    the story's row is locked and its status read again first (PostgreSQL), so a withdrawal
    committed since this request loaded the story is seen, and one committing meanwhile waits
    for this transaction to end. (On SQLite a writer holds the database's write lock from its first
    statement, ``database.write_intent``.) Without the lock, a curator's description read
    before the narrator withdrew could still give the tombstone new themes.

    With ``as_committed`` (a narrator's own change), what the request read of the story is
    forgotten too, under the same lock (``_as_committed``). A curator's form keeps it: its
    stale-version check relies on the version it read."""
    status = _as_committed(story) if as_committed else _locked_status(story)
    if status == StoryStatus.WITHDRAWN:
        raise StoryRefused(Refusal.WITHDRAWN)


def _set_review_status(
    story: Story, status: StoryStatus, action: str, curator: CuratorAccount | None
) -> None:
    refuse_if_withdrawn(story)
    if story.status == StoryStatus.PUBLISHED and status != StoryStatus.PUBLISHED:
        ledger.record(ledger.HIDDEN, story)
    story.status = status
    if status != StoryStatus.SUBMITTED:  # a decision, not a return to the queue
        _mark_reviewed(story)
    _flush_and_audit(action, story, curator)


def _flush_and_audit(
    action: str, story: Story, curator: CuratorAccount | None, kind: ActorKind | None = None
) -> None:
    db.session.flush()
    audit.record(action, "story", story.public_id, actor=curator, actor_kind=kind)


def delete_unreferenced(keys: list[str]) -> None:
    """Schedule deletion of files no remaining media row points at (files are shared by hash)."""
    if not keys:
        return
    still_used: set[str | None] = set()
    for column in KEY_COLUMNS:
        still_used.update(db.session.scalars(select(column).where(column.in_(keys))))
    delete_after_commit(db.session(), get_storage(), [k for k in keys if k not in still_used])
