"""Importing an event: each good row becomes a story exactly as a web contribution does.

Every file goes through ``contributions.clean`` (the media ingest) and every story through
``contributions.record`` (``stories.submit``: the normal consent record and audit event), with a
new receipt code per row. An import commits, unlike other domain operations, because it is many
contributions: its caller must hold no pending change.

- **Dry run**: every check, each file through the ingest too; then everything is rolled back, so
  the stored files go with the transaction. Nothing is written.
- **Default, all or nothing**: refused if the sheet or its files have any problem; otherwise the
  files of every row are cleaned and stored first (no write lock held meanwhile), then all rows are
  inserted and committed in one transaction. A file the ingest refuses rolls everything back.
- **Good rows only** (``skip_bad_rows``): each row is its own transaction, committed on its own;
  a row with a problem is left out whole, the others are imported.

A row whose paper form reference is already in the archive is skipped and reported, so running
the same sheet again after fixing it imports only what is missing. Killed at any moment, an
import leaves whole rows or none; the files of an uncommitted row go with the next sweep (the
transaction's intent, ``storage.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from nuevonorte import audit, contributions, database, faults, paper_forms, receipts
from nuevonorte.extensions import db
from nuevonorte.importer.outcome import Outcome, RowResult, RowStatus
from nuevonorte.importer.problems import Problem
from nuevonorte.importer.sheet import SheetRow, read_sheet
from nuevonorte.importer.sources import EventSource
from nuevonorte.media.ingest import Cleaned
from nuevonorte.models import ConsentRecord, CuratorAccount
from nuevonorte.paper_forms import form_key

Staged = tuple[SheetRow, list[Cleaned]]

Progress = Callable[[int], object]
HandOut = Callable[[RowResult], object]


def _nothing(_done: object) -> None:
    return None


class EventImport:
    """An event read and checked against the archive, ready to ``run``."""

    def __init__(
        self,
        source: EventSource,
        *,
        dry_run: bool = False,
        skip_bad_rows: bool = False,
        actor: CuratorAccount | None = None,
    ) -> None:
        self.source = source
        self.skip_bad_rows = skip_bad_rows
        self.actor = actor
        self.hand_out: HandOut = _nothing
        db.session.rollback()  # rows commit one by one below: start from no transaction
        sheet = read_sheet(source)
        self.outcome = Outcome(dry_run, source.problems + sheet.problems)
        with database.reading():
            known, withdrawn = imported_forms(), paper_forms.withdrawn()
        db.session.rollback()  # end the read: cleaning files takes long and holds nothing
        self.pending: list[tuple[SheetRow, RowResult]] = []
        for row in sheet.rows:
            result = RowResult(row.number, row.paper_form_ref, RowStatus.NOT_TRIED, row.problems)
            if row.problems:
                result.status = RowStatus.REFUSED
            elif row.form_key in known:
                result.status = RowStatus.ALREADY_IMPORTED
            elif paper_forms.digest(row.paper_form_ref) in withdrawn:
                result.status = RowStatus.WITHDRAWN
            self.outcome.rows.append(result)
            if self.outcome.problems:
                continue
            # A dry run names every problem: the files of a row with other problems are checked too.
            files_fine = bool(row.media) and not any(p.column == "media" for p in row.problems)
            if result.status == RowStatus.NOT_TRIED or (
                dry_run and result.status == RowStatus.REFUSED and files_fine
            ):
                self.pending.append((row, result))

    @property
    def refused_whole(self) -> bool:
        """Whether problems keep every row out (an unreadable event, or any problem by default)."""
        if self.outcome.problems:
            return True
        return not (self.outcome.dry_run or self.skip_bad_rows) and self.outcome.count(RowStatus.REFUSED) > 0

    def run(
        self, progress: Progress = _nothing, deadline: float | None = None, hand_out: HandOut = _nothing
    ) -> Outcome:
        """Check or import the pending rows, calling ``progress(1)`` after each; stop starting
        rows once ``deadline`` (``time.monotonic()``) has passed. ``hand_out`` gets each imported
        row right after its commit, so that its code is shown even if the process dies later."""
        self.hand_out = hand_out
        if not self.refused_whole:
            try:
                if self.skip_bad_rows and not self.outcome.dry_run:
                    self._row_by_row(progress, deadline)
                else:
                    self._all_at_once(progress, deadline)
            except KeyboardInterrupt:
                db.session.rollback()
                self.outcome.stopped = _l("The import was interrupted.")
        return self.outcome

    def _all_at_once(self, progress: Progress, deadline: float | None) -> None:
        staged: list[tuple[Staged, RowResult]] = []
        for row, result in self.pending:
            if _past(deadline):
                self.outcome.stopped = (
                    _l("Time ran out before every row was checked.")
                    if self.outcome.dry_run
                    else _l(
                        "This event takes too long to import in one go here, so nothing was imported. "
                        "Import the rows without problems (in parts), or use the command “nuevonorte import”."
                    )
                )
                break
            problem = self._clean(row)
            progress(1)
            if isinstance(problem, Problem):
                result.status = RowStatus.REFUSED
                result.problems.append(problem)
            elif result.status == RowStatus.NOT_TRIED:
                staged.append(((row, problem), result))
        ready = self.outcome.dry_run or self.outcome.stopped is not None
        if ready or self.outcome.count(RowStatus.REFUSED):
            db.session.rollback()  # the files stored for the check go with the transaction
            for _staged, result in staged:
                result.status = RowStatus.READY if self.outcome.dry_run else RowStatus.NOT_TRIED
            return
        self._write([item for item, _result in staged], [result for _item, result in staged])

    def _row_by_row(self, progress: Progress, deadline: float | None) -> None:
        for row, result in self.pending:
            if _past(deadline):
                self.outcome.stopped = _l("Time ran out. Send the same file again to import the rest.")
                break
            problem = self._clean(row)
            if isinstance(problem, Problem):
                db.session.rollback()
                result.status = RowStatus.REFUSED
                result.problems.append(problem)
            else:
                try:
                    self._write([(row, problem)], [result])
                except (SQLAlchemyError, OSError):
                    db.session.rollback()
                    self.outcome.stopped = _l("The archive could not save a row; the import stopped there.")
                    break
            progress(1)

    def _clean(self, row: SheetRow) -> list[Cleaned] | Problem:
        """The row's files, cleaned and stored for the session's transaction; or why not."""
        with ExitStack() as files:
            try:
                streams = [files.enter_context(self.source.open(name)) for name in row.media]
            except OSError:
                return Problem(_l("A file of this row could not be read."), row.number, "media")
            try:
                return contributions.clean(streams)
            except contributions.FileRefused as refused:
                name, rejected = row.media[refused.index - 1], refused.rejected
                return Problem(LazyString(lambda: f"“{name}”: {rejected.message}"), row.number, "media")

    def _write(self, batch: list[Staged], results: list[RowResult]) -> None:
        """Insert the rows of ``batch`` and commit them together; a row whose paper form was
        imported meanwhile (another import) rolls the batch back."""
        # The slow hashes of the codes first: no SQL yet, so no write lock is held meanwhile.
        people = [receipts.issue(_contribution(row).consent_language) for row, _cleaned in batch]
        with database.write_intent():
            known = imported_forms()
            if any(row.form_key in known for row, _cleaned in batch):
                db.session.rollback()
                for (row, _cleaned), result in zip(batch, results, strict=True):
                    result.status = (
                        RowStatus.ALREADY_IMPORTED if row.form_key in known else RowStatus.NOT_TRIED
                    )
                return
            stories = []
            for (row, cleaned), (contributor, _code) in zip(batch, people, strict=True):
                story = contributions.record(_contribution(row), cleaned, contributor).story
                audit.record("story.imported", "story", story.public_id, actor=self.actor)
                stories.append(story.public_id)
            faults.point("import.before_commit")
            db.session.commit()
        for result, (_contributor, code), story_id in zip(results, people, stories, strict=True):
            result.status, result.code, result.story_id = RowStatus.IMPORTED, code, story_id
            self.hand_out(result)


def imported_forms() -> set[str]:
    """The paper form references already in the archive, as ``form_key`` compares them."""
    refs = db.session.scalars(select(ConsentRecord.paper_form_ref).where(ConsentRecord.paper_form_ref != ""))
    return {form_key(ref) for ref in refs}


def _contribution(row: SheetRow) -> contributions.Contribution:
    assert row.contribution is not None  # only rows without problems are pending
    return row.contribution


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline
