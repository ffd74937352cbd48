"""What an import did, row by row: shown once (receipt codes included), never stored."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from flask_babel import LazyString

from nuevonorte.importer.problems import Problem


class RowStatus(enum.StrEnum):
    """What became of one row of the sheet."""

    READY = "ready"  # a dry run found nothing wrong: it would be imported
    IMPORTED = "imported"
    ALREADY_IMPORTED = "already_imported"  # its paper form is in the archive: skipped
    WITHDRAWN = "withdrawn"  # its paper form's story was withdrawn by its narrator: never again
    REFUSED = "refused"  # it has problems; nothing of it was written
    NOT_TRIED = "not_tried"  # good, but not imported: other rows have problems, or the run stopped


@dataclass
class RowResult:
    """One row: where it is, what became of it, and — once — its narrator's receipt code."""

    number: int
    paper_form_ref: str
    status: RowStatus
    problems: list[Problem] = field(default_factory=list)
    code: str | None = None
    story_id: str | None = None


@dataclass
class Outcome:
    """Every row's result, the problems of the event as a whole, and why it stopped early."""

    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    stopped: LazyString | None = None

    def count(self, status: RowStatus) -> int:
        """How many rows ended with ``status``."""
        return sum(1 for row in self.rows if row.status == status)

    @property
    def every_problem(self) -> list[Problem]:
        """The event's problems, then each row's, in the sheet's order."""
        return self.problems + [p for row in self.rows for p in row.problems]

    @property
    def receipts(self) -> list[RowResult]:
        """The rows imported now, each with the code to hand to its narrator."""
        return [row for row in self.rows if row.code is not None]

    @property
    def complete(self) -> bool:
        """Whether every row is in the archive now (or would be, for a dry run)."""
        done = {
            RowStatus.READY if self.dry_run else RowStatus.IMPORTED,
            RowStatus.ALREADY_IMPORTED,
            RowStatus.WITHDRAWN,
        }
        return not self.problems and self.stopped is None and all(row.status in done for row in self.rows)
