"""``nuevonorte export DEST``: the archive as a BagIt 1.0 package (docs/parts/preservation.md).

``public=True`` holds only what the consent rule makes public, for a partner or a library; the
full export is the workshop's own preservation copy (unpublished stories, original media, the
consent history) and must be kept like a backup. ``package`` makes the folder appear whole or
not at all; ``content`` decides what goes in.
"""

from __future__ import annotations

from pathlib import Path

from nuevonorte.export import content, package
from nuevonorte.export.content import Counts
from nuevonorte.export.package import DestinationRefused, check_destination
from nuevonorte.extensions import db
from nuevonorte.models.base import today

__all__ = ["Counts", "DestinationRefused", "check_destination", "export"]

SOURCE_ORGANIZATION = "Taller Nuevo Norte"
DESCRIPTION = {
    True: (
        "Public export of the Nuevo Norte archive: only what each narrator's consent makes public "
        "on the bagging date (withheld passages left out, recordings as the public hears them)."
    ),
    False: (
        "Full export of the Nuevo Norte archive for the workshop's own preservation: unpublished "
        "stories, original media, withheld passages marked, and every consent record. Keep it like "
        "a backup; never share it."
    ),
}


def export(dest: Path, *, public: bool) -> Counts:
    """Write the archive to ``dest`` (a new or empty folder) as a validated bag; return what it
    holds. Everything is read in one transaction, so the package is one moment of the archive."""
    counts = Counts()

    def fill(payload: Path) -> None:
        nonlocal counts
        _snapshot()
        try:
            counts = content.write_payload(payload, public=public)
        finally:
            db.session.rollback()  # end the read: it only read

    package.make(
        dest,
        fill,
        {
            "Source-Organization": SOURCE_ORGANIZATION,
            "Bagging-Date": today().isoformat(),
            "External-Description": DESCRIPTION[public],
            "External-Identifier": f"nuevonorte-{'public' if public else 'full'}-{today().isoformat()}",
        },
    )
    return counts


def _snapshot() -> None:
    """On PostgreSQL, read every table from the same snapshot (SQLite's read is one already)."""
    session = db.session()
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
