"""A problem found in an event's sheet or files, named by row and column."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import gettext as _

#: The header's row number; the first story is on row 2, as a spreadsheet shows it.
HEADER_ROW = 1


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: ``row`` None for the whole event (the zip file, the sheet itself),
    ``column`` None for the whole row. The message is translated when it is shown."""

    message: LazyString
    row: int | None = None
    column: str | None = None

    def where(self) -> str:
        """Row and column in words, in the active language (empty for the whole event)."""
        if self.row is None:
            return ""
        if self.column is None:
            return row_label(self.row)
        return str(_("row %(row)d, column “%(column)s”", row=self.row, column=self.column))


def row_label(row: int) -> str:
    """ "row 3", in the active language."""
    return str(_("row %(row)d", row=row))
