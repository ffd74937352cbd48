"""A contribution: a new story, its media files and, when needed, a new receipt code.

Shared by the web form and the partner API so that both follow the same rules: ``send`` is the whole
transaction (quotas, files, rows, commit); the views only turn its refusals into words. If one
file is refused (``MediaRejected``), or anything else fails before the commit, nothing of the
submission remains — no story, consent record, media row or file. The files are cleaned before
the first row is written, so that on SQLite the write lock is held only for the inserts: a long
upload never makes other writers wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import select

from nuevonorte import faults, quota, receipts, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.media import IngestReport, MediaRejected
from nuevonorte.media.ingest import Cleaned, attach, clean_upload
from nuevonorte.models import Contributor, Place, Story, Theme

#: The most files one submission may carry (docs/security.md U20); more are refused whole.
MAX_FILES = 20


class TooManyFiles(Exception):
    """More files than ``MAX_FILES`` in one submission."""


class FileRefused(Exception):
    """File number ``index`` (1-based, in the order sent) was refused by ingest."""

    def __init__(self, index: int, rejected: MediaRejected) -> None:
        super().__init__(rejected.code)
        self.index = index
        self.rejected = rejected


@dataclass
class Contribution:
    """What a person sends: their words, their choices and the vocabulary they picked."""

    body: str
    choices: ConsentChoices
    consent_language: str
    title: str = ""
    language: str = "es"
    theme_ids: Sequence[int] = ()
    place_ids: Sequence[int] = ()
    #: The reference of the paper consent form signed at a workshop (``nuevonorte import``).
    paper_form_ref: str = ""


@dataclass
class Receipt:
    """The result: the story, one report per file, and the code when a new one was issued."""

    story: Story
    reports: list[IngestReport] = field(default_factory=list)
    code: str | None = None
    file_sizes: list[int] = field(default_factory=list)


def send(
    contribution: Contribution,
    files: Sequence[IO[bytes]],
    contributor: Contributor | None = None,
    also: Callable[[Receipt], None] | None = None,
) -> Receipt:
    """A whole contribution as the form and the API take it, in one transaction: the daily
    quotas (U20), ``receive``, then ``also`` (what the caller writes with it, such as the web
    form's record of which code answered which form), the commit, and the files counted against
    this session's quota.

    Raises ``quota.QuotaExceeded``, ``TooManyFiles``, ``FileRefused`` or whatever ``also`` or
    the commit raised (``IntegrityError``: the same form sent twice at once), always after
    rolling back and giving back the archive's reserved bytes: nothing of it remains.
    """
    file_sizes = quota.sizes(files)
    # Nothing was written yet: end the read transaction, so that the archive's counter (its
    # own connection) does not wait for this request's SQLite write lock.
    db.session.rollback()
    reserved = quota.check(file_sizes)  # before anything is stored
    try:
        receipt = receive(contribution, files, contributor)
        receipt.file_sizes = file_sizes
        if also is not None:
            also(receipt)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        quota.release(reserved)
        raise
    quota.record(file_sizes)
    return receipt


def receive(
    contribution: Contribution, files: Iterable[IO[bytes]], contributor: Contributor | None = None
) -> Receipt:
    """Create the story and ingest its files, in the order given; flushes, never commits.

    Without ``contributor`` a new one is created with a fresh receipt code (returned once).
    Raises ``TooManyFiles`` or ``FileRefused``; the caller must then roll back.
    """
    return record(contribution, clean(files), contributor)


def clean(files: Iterable[IO[bytes]]) -> list[Cleaned]:
    """Validate, clean and store each file through the media ingest, in the order given, before
    any row is written. The stored files belong to the session's transaction (they go if it
    rolls back). Raises ``TooManyFiles`` or ``FileRefused``."""
    files = list(files)
    if len(files) > MAX_FILES:
        raise TooManyFiles()
    cleaned = []
    for index, stream in enumerate(files, start=1):
        try:
            cleaned.append(clean_upload(stream))
        except MediaRejected as rejected:
            raise FileRefused(index, rejected) from None
        faults.point("contribution.file_stored")
    return cleaned


def record(
    contribution: Contribution, cleaned: Sequence[Cleaned], contributor: Contributor | None = None
) -> Receipt:
    """The rows of a contribution whose files are cleaned: a new contributor and code unless one
    is given, the story with its first consent record, and its media rows; flushes, never commits."""
    # Only now the database: the write transaction lasts as long as the inserts, not the files.
    code = None
    if contributor is None:
        contributor, code = receipts.issue(contribution.consent_language)
    story = stories.submit(
        contributor,
        body=contribution.body.strip(),
        choices=contribution.choices,
        consent_language=contribution.consent_language,
        title=contribution.title.strip(),
        language=contribution.language,
        themes=_by_ids(Theme, contribution.theme_ids),
        places=_by_ids(Place, contribution.place_ids),
        paper_form_ref=contribution.paper_form_ref,
    )
    receipt = Receipt(story=story, code=code)
    for done in cleaned:
        attach(story, done)
        receipt.reports.append(done.report)
    return receipt


def _by_ids(model: type[Theme] | type[Place], ids: Sequence[int]) -> list:  # type: ignore[type-arg]
    if not ids:
        return []
    return list(db.session.scalars(select(model).where(model.id.in_(list(ids)))))
