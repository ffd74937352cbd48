"""Consistency checks between the database and the media files (``nuevonorte check``)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy import select

from nuevonorte.database import write_transaction
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile
from nuevonorte.storage import Storage


@dataclass(frozen=True)
class Finding:
    """One disagreement: what kind, and which object or file (never content)."""

    kind: str
    detail: str


def media_findings(storage: Storage, verify_content: bool = False) -> list[Finding]:
    """Media rows whose files are missing or altered, files no row claims, and temporary files
    no living process holds."""
    findings: list[Finding] = []
    referenced: dict[str, str] = {}
    for media in db.session.scalars(select(MediaFile).order_by(MediaFile.id)):
        for key in media.storage_keys():
            referenced[key] = media.public_id
    for key, public_id in referenced.items():
        if not storage.exists(key):
            findings.append(Finding("missing-file", f"media {public_id}: {key}"))
        elif verify_content and not storage.verify(key):
            findings.append(Finding("altered-file", f"media {public_id}: {key}"))
    for key in storage.keys():
        if key not in referenced:
            findings.append(Finding("orphan-file", key))
    for path in storage.abandoned_temp_files():
        findings.append(Finding("temporary-file", path.name))
    return findings


def index_findings() -> list[Finding]:
    """Search index drift (docs/security.md F09); anything non-public in the public index is a P0
    and is removed at once, as are other disagreements (see ``nuevonorte.search.health``)."""
    from nuevonorte.search import index_findings as search_index_findings

    return [
        Finding(f"P0 {f.kind}" if f.urgent else f.kind, f.detail) for f in search_index_findings(repair=True)
    ]


def audio_findings(repair: bool = False) -> list[Finding]:
    """Recordings with withheld passages whose silenced public copy is missing: the public
    hears nothing of them meanwhile (fail closed, T05). ``repair`` makes the copies."""
    from nuevonorte import withheld_audio
    from nuevonorte.media.errors import MediaRejected

    findings = []
    for public_id in withheld_audio.lacking():
        if repair:
            try:
                withheld_audio.make(public_id)
                continue
            except MediaRejected as refused:
                db.session.rollback()
                findings.append(Finding("silenced-copy-failed", f"media {public_id}: {refused.code}"))
                continue
        findings.append(Finding("silenced-copy-missing", f"media {public_id}"))
    return findings


def ledger_findings(repair: bool = False) -> list[Finding]:
    """The withdrawal ledger: missing, damaged or another archive's; or changes it holds that
    the database does not (a restored older backup). ``repair`` makes those again first."""
    from nuevonorte import ledger

    if repair:
        with contextlib.suppress(ledger.LedgerError):
            ledger.replay()
    return [Finding("withdrawal-ledger", line) for line in ledger.findings()]


def count_findings(repair: bool = False) -> list[Finding]:
    """The kept counts of themes and places that disagree with the stories (``term_counts``).
    ``repair`` makes them again from the stories; the public lists are then right at once."""
    from nuevonorte import publication, term_counts

    if not term_counts.findings(db.session()):
        return []
    # Read again with every recount held off: a change committed during the first reading is
    # not a disagreement. A transaction of its own, begun as a writer (SQLite).
    with write_transaction():
        publication.hold(db.session())
        found = term_counts.findings(db.session())
        if found and repair:
            term_counts.rebuild(db.session())
            found = term_counts.findings(db.session())
        db.session.commit()
    return [Finding("term-count", line) for line in found]
