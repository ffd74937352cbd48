"""The sheet of an event: one row per story, read and checked cell by cell.

The sheet is a CSV file in UTF-8 (a spreadsheet's "CSV UTF-8"), comma separated, with a header
row naming its columns in any order. Every rule for a cell is here, each problem named by row
and column. A byte-order mark at the start (Excel writes one) is taken off; a file that is not
UTF-8 (UTF-16, Windows-1252) is named cell by cell, so that the rows without accents are not
blamed. Nothing here reads the database or the files' contents.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from datetime import date

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from nuevonorte import receipts
from nuevonorte.consent import CONSENT_TEXT_VERSION, ConsentChoices
from nuevonorte.contribute.forms import LANGUAGE_CHOICES, MAX_BODY
from nuevonorte.contributions import MAX_FILES, Contribution
from nuevonorte.importer.problems import HEADER_ROW, Problem
from nuevonorte.importer.sources import EventSource, plain_name
from nuevonorte.models import PERMISSIONS, Credit, Visibility
from nuevonorte.models.base import today
from nuevonorte.paper_forms import form_key

REQUIRED = (
    "paper_form_ref",
    "text",
    "language",
    "visibility",
    "credit",
    *PERMISSIONS,
    "consent_version",
    "consent_language",
)
OPTIONAL = ("title", "credit_name", "embargo_until", "media")
#: The most stories one sheet may hold; a larger event is imported in several sheets.
MAX_ROWS = 1000
#: Lengths the database holds (``ConsentRecord.paper_form_ref``, ``credit_name``; story title).
MAX_REF, MAX_TITLE, MAX_CREDIT_NAME = 80, 300, 120
#: Answers a consent question may have, in either language.
YES = frozenset({"yes", "sí", "si", "true", "1"})
NO = frozenset({"no", "false", "0"})
MEDIA_SEPARATOR = ";"


@dataclass
class SheetRow:
    """One story of the sheet: what to import, or the problems that keep it out."""

    number: int
    paper_form_ref: str
    text: str = ""
    contribution: Contribution | None = None
    media: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def form_key(self) -> str:
        """The paper form reference as it is compared (case and spacing do not matter)."""
        return form_key(self.paper_form_ref)


@dataclass
class Sheet:
    """The rows of a sheet, and the problems that make the whole sheet unreadable."""

    rows: list[SheetRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def shown(value: str, limit: int = 60) -> str:
    """A cell as a message may quote it: what is not UTF-8 as �, no NUL, not too long."""
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\0", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_sheet(source: EventSource) -> Sheet:
    """Read and check the sheet of ``source``; problems of its files are named in their rows."""
    data = source.sheet()
    if data is None:
        return Sheet()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _refused(_l("The sheet is not UTF-8 text. Save it as “CSV UTF-8”."), HEADER_ROW)
    if not data.strip():
        return _refused(_l("The sheet is empty: it needs a header row and one row per story."), HEADER_ROW)
    records = csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline=""))
    sheet = Sheet()
    number = HEADER_ROW
    try:
        header = [name.strip().lower() for name in next(records)]
        sheet.problems += _header_problems(header)
        for record in records:
            number += 1
            if any(cell.strip() for cell in record):
                sheet.rows.append(_row(number, header, record, source))
            if len(sheet.rows) > MAX_ROWS:
                return _refused(_l("The sheet has more than %(count)d stories.", count=MAX_ROWS))
    except csv.Error:
        message = _l(
            "The sheet cannot be read from this row on: "
            "a cell is far too long, or a quotation mark is never closed."
        )
        sheet.problems.append(Problem(message, number + 1))
    if not sheet.rows and not sheet.problems:
        sheet.problems.append(Problem(_l("The sheet has no stories, only its header row."), HEADER_ROW))
    _name_duplicates(sheet.rows)
    return sheet


def _refused(message: LazyString, row: int | None = None) -> Sheet:
    return Sheet(problems=[Problem(message, row)])


def _header_problems(header: list[str]) -> list[Problem]:
    if len(header) == 1 and ";" in header[0]:  # a spreadsheet set to separate with semicolons
        return [
            Problem(
                _l("The sheet is separated by semicolons. Save it as “CSV UTF-8” with commas."), HEADER_ROW
            )
        ]
    problems = []
    for position, name in enumerate(header):
        if name and name not in REQUIRED + OPTIONAL:
            problems.append(Problem(_l("This column is not one the archive knows."), HEADER_ROW, shown(name)))
        elif name and name in header[:position]:
            problems.append(Problem(_l("This column is in the sheet twice."), HEADER_ROW, name))
    for name in REQUIRED:
        if name not in header:
            problems.append(Problem(_l("This column is missing."), HEADER_ROW, name))
    return problems


class _Cells:
    """The cells of one row by column name; each reader records its own problems."""

    def __init__(self, number: int, header: list[str], record: list[str]) -> None:
        self.number = number
        self.values = {name: value for name, value in zip(header, record, strict=False) if name}
        self.problems: list[Problem] = []
        if any(value.strip() for value in record[len(header) :]) or any(
            value.strip() for name, value in zip(header, record, strict=False) if not name
        ):
            self.refuse(None, _l("This row has a cell outside the sheet's named columns."))

    def refuse(self, column: str | None, message: LazyString) -> None:
        self.problems.append(Problem(message, self.number, column))

    def text(self, column: str, limit: int, *, required: bool = False) -> str:
        value = self.values.get(column, "").strip()
        if "\0" in value:
            self.refuse(column, _l("This cell holds an invisible character (NUL). Type it again."))
            return ""
        if any("\udc80" <= c <= "\udcff" for c in value):
            self.refuse(column, _l("This cell is not UTF-8 text. Save the sheet as “CSV UTF-8”."))
            return ""
        if len(value) > limit:
            self.refuse(column, _l("This cell is longer than %(count)d characters.", count=limit))
        elif required and not value:
            self.refuse(column, _l("This cell must not be empty."))
        return value

    def choice(self, column: str, allowed: list[str]) -> str | None:
        value = self.text(column, 40, required=True).lower()
        if value in allowed:
            return value
        if value:
            message = _l(
                "“%(value)s” is not one of: %(allowed)s.", value=shown(value), allowed=", ".join(allowed)
            )
            self.refuse(column, message)
        return None

    def flag(self, column: str) -> bool:
        value = self.text(column, 10, required=True).lower()
        if value and value not in YES | NO:
            self.refuse(column, _l("“%(value)s” is neither “yes” nor “no”.", value=shown(value)))
        return value in YES

    def day(self, column: str) -> date | None:
        value = self.text(column, 10)
        if not value:
            return None
        try:
            found = date.fromisoformat(value)
        except ValueError:
            self.refuse(column, _l("“%(value)s” is not a date written as YYYY-MM-DD.", value=shown(value)))
            return None
        if found <= today():
            self.refuse(column, _l("An embargo date must come after today."))
        return found


def _row(number: int, header: list[str], record: list[str], source: EventSource) -> SheetRow:
    """Check one row; a row with any problem gets no contribution."""
    cells = _Cells(number, header, record)
    row = SheetRow(number, cells.text("paper_form_ref", MAX_REF, required=True))
    title = cells.text("title", MAX_TITLE)
    body = row.text = cells.text("text", MAX_BODY)
    language = cells.choice("language", [c.value for c in LANGUAGE_CHOICES])
    visibility = cells.choice("visibility", [v.value for v in Visibility])
    credit = cells.choice("credit", [c.value for c in Credit])
    # The web form's rule: a name or pseudonym credit needs the name; anonymous keeps none.
    credit_name = cells.text("credit_name", MAX_CREDIT_NAME)
    if credit in (Credit.NAME, Credit.PSEUDONYM) and not credit_name:
        cells.refuse(
            "credit_name", _l("Write the name or pseudonym to credit, or make the credit anonymous.")
        )
    choices = ConsentChoices(
        visibility=Visibility(visibility or Visibility.CONTRIBUTOR),
        credit=Credit(credit or Credit.ANONYMOUS),
        credit_name="" if credit == Credit.ANONYMOUS else credit_name,
        **{name: cells.flag(name) for name in PERMISSIONS},
        embargo_until=cells.day("embargo_until"),
    )
    version = cells.text("consent_version", 32)
    if version != CONSENT_TEXT_VERSION:
        cells.refuse(
            "consent_version",
            _l(
                "“%(value)s” is not a consent text the archive knows; the current one is %(version)s.",
                value=shown(version),
                version=CONSENT_TEXT_VERSION,
            ),
        )
    consent_language = cells.choice("consent_language", list(receipts.WORDLISTS))
    row.media = _media(cells, source)
    if not body and not row.media:
        cells.refuse("text", _l("A story needs a text or at least one file."))
    row.problems = cells.problems
    if not row.problems:
        row.contribution = Contribution(
            body=body,
            choices=choices,
            consent_language=consent_language or "es",
            title=title,
            language=language or "es",
            paper_form_ref=row.paper_form_ref,
        )
    return row


def _media(cells: _Cells, source: EventSource) -> list[str]:
    """The file names of the ``media`` cell, each checked beside the sheet."""
    names = [n.strip() for n in cells.text("media", 10_000).split(MEDIA_SEPARATOR) if n.strip()]
    if len(names) > MAX_FILES:
        cells.refuse("media", _l("A story may have at most %(count)d files.", count=MAX_FILES))
    for position, name in enumerate(names):
        if not plain_name(name):
            cells.refuse(
                "media", _l("“%(name)s” is not the name of a file beside the sheet.", name=shown(name))
            )
        elif name in names[:position]:
            cells.refuse("media", _l("“%(name)s” is named twice.", name=name))
        elif (reason := source.unusable(name)) is not None:
            cells.refuse("media", reason)
    return names


def _name_duplicates(rows: list[SheetRow]) -> None:
    """A paper form or a text already in an earlier row is a problem of the later row."""
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        for column, key in (
            ("paper_form_ref", row.form_key),
            ("text", " ".join(row.text.split()).casefold()),
        ):
            if not key:
                continue
            if (column, key) not in first:
                first[column, key] = row.number
                continue
            earlier = first[column, key]
            message = (
                _l("The same paper form as row %(row)d.", row=earlier)
                if column == "paper_form_ref"
                else _l("The same text as row %(row)d.", row=earlier)
            )
            row.problems.append(Problem(message, row.number, column))
            row.contribution = None
