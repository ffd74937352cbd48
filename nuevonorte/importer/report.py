"""How an import's outcome reads, for the command line and the admin screen alike."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from nuevonorte.importer.outcome import Outcome, RowResult, RowStatus
from nuevonorte.importer.problems import Problem, row_label

STATUS = {
    RowStatus.READY: _l("Ready to import"),
    RowStatus.IMPORTED: _l("Imported"),
    RowStatus.ALREADY_IMPORTED: _l("Already in the archive: skipped"),
    RowStatus.WITHDRAWN: _l("Withdrawn by its narrator: never imported again"),
    RowStatus.REFUSED: _l("Not imported: it has problems"),
    RowStatus.NOT_TRIED: _l("Not imported"),
}
#: Above the codes, wherever they are shown: the only time anyone sees them.
RECEIPTS_WARNING = _l(
    "Receipt codes, one per narrator: give each person their own now. They will not be shown "
    "again and nobody can recover them; a code is its narrator's only way into “my stories”."
)
NOTHING_IMPORTED = _l(
    "Nothing was imported. Fix the problems and run the import again: "
    "rows already in the archive are skipped."
)


def progress_label(dry_run: bool) -> str:
    """The progress bar's label."""
    return str(_("Checking the event") if dry_run else _("Importing the event"))


def summary(outcome: Outcome) -> str:
    """How many rows ended how."""
    counts = {status.value: outcome.count(status) for status in RowStatus}
    if outcome.dry_run:
        return str(
            _(
                "Ready to import: %(ready)d. Already in the archive: %(already_imported)d. "
                "Withdrawn by their narrators: %(withdrawn)d. "
                "With problems: %(refused)d. Dry run: nothing was written.",
                **counts,
            )
        )
    return str(
        _(
            "Imported: %(imported)d. Already in the archive: %(already_imported)d. "
            "Withdrawn by their narrators: %(withdrawn)d. "
            "With problems: %(refused)d. Not imported: %(not_tried)d.",
            **counts,
        )
    )


def problem_line(problem: Problem) -> str:
    """One problem, where it is first."""
    where = problem.where()
    return f"{where}: {problem.message}" if where else str(problem.message)


def receipt_line(row: RowResult) -> str:
    """Where a code belongs (row and paper form) and the code."""
    return f"{row_label(row.number)} · {row.paper_form_ref} · {row.code}"


def lines(outcome: Outcome, *, refused_whole: bool) -> list[str]:
    """The outcome as the command line prints it at the end: problems, skipped rows, summary
    (the codes were printed as their rows were imported)."""
    out = [problem_line(p) for p in outcome.every_problem]
    for row in outcome.rows:
        if row.status in (RowStatus.ALREADY_IMPORTED, RowStatus.WITHDRAWN):
            out.append(f"{row_label(row.number)}: {STATUS[row.status]} ({row.paper_form_ref})")
    if outcome.stopped is not None:
        out.append(str(outcome.stopped))
    out.append(summary(outcome))
    if refused_whole:
        out.append(str(NOTHING_IMPORTED))
        if not outcome.problems:
            out.append(_("To import only the rows without problems, add --skip-bad-rows."))
    return out
