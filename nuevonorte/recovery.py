"""Crash recovery: make the media folder agree with the database again (docs/security.md T08, F01).

Run when the web app or a worker starts, by ``nuevonorte sweep`` and by ``nuevonorte check
--repair``. Files stored for a transaction that never committed, and files of rows a committed
transaction deleted, are removed when their process died before it could (``Storage.recover``);
temporary files no living process holds are removed at once. Files of living processes are
never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from nuevonorte.contribute import held
from nuevonorte.extensions import db
from nuevonorte.models.media import KEY_COLUMNS
from nuevonorte.storage import Storage


@dataclass(frozen=True)
class Recovered:
    """What a recovery removed: stored files no row references, and temporary files."""

    files: list[str]
    temps: list[Path]


def recover(storage: Storage, *, orphans: bool = False) -> Recovered:
    """Remove what dead processes left; with ``orphans``, every stored file no row references."""
    temps = storage.sweep_temp_files() + held.sweep(storage)
    files = storage.recover(referenced, orphans=orphans)
    return Recovered(files, temps)


def referenced(keys: set[str]) -> set[str]:
    """Which of ``keys`` a committed media row points at (read in a transaction of its own)."""
    found: set[str] = set()
    ordered = sorted(keys)
    with db.engine.connect() as conn:
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            for column in KEY_COLUMNS:
                found.update(k for k in conn.scalars(select(column).where(column.in_(chunk))) if k)
    return found
