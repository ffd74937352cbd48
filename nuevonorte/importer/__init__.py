"""Importing an event: the stories a workshop gathered on paper, from a sheet and files.

``nuevonorte import FOLDER`` and the admin screen's upload (a zip file) read the event through
a source (``sources``), check its sheet cell by cell (``sheet``), and import it row by row
through the contribution's own path (``event``). Each problem is named by row and column
(``problems``); the result of each row, with its receipt code, is shown once (``outcome``).
"""

from nuevonorte.importer import report
from nuevonorte.importer.event import EventImport
from nuevonorte.importer.outcome import Outcome, RowResult, RowStatus
from nuevonorte.importer.problems import Problem
from nuevonorte.importer.sources import EventFolder, EventSource, EventZip

__all__ = [
    "EventFolder",
    "EventImport",
    "EventSource",
    "EventZip",
    "Outcome",
    "Problem",
    "RowResult",
    "RowStatus",
    "report",
]
