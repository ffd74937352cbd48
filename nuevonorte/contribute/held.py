"""Files kept while a contribution form is corrected: nothing sent is lost to a form error.

When a form arrives with its files but something in it must be corrected (a missing choice, a
limit for the minute), the files are kept in storage's temporary area, under the hash of the
form's token (``submissions.new_token``), and listed on the page that asks for the
correction. Sending the form again re-attaches them, in the order they came, before any new
file; the person may drop any of them. They are never indexed, never public, never under a
stored key; ``sweep`` removes what no one sent again within ``HELD_FOR`` (run with the other
temporary files: ``nuevonorte sweep``, the app's start, ``check``).

What is kept is the *cleaned* file, as ingest makes it (metadata removed, rebuilt from its
decoded content), with the codes of what was removed: never the bytes as they came, so a
seized server finds no more in this folder than in the stored media (docs/security.md C17).
No filename, no content type. Sending again cleans the kept file once more (it passes
unchanged) and the receipt reports what the first cleaning removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from nuevonorte.extensions import db
from nuevonorte.media import MediaRejected
from nuevonorte.media.ingest import clean_upload
from nuevonorte.models import MediaKind
from nuevonorte.storage import TEMP_DIR, Storage

#: How long files wait for the corrected form.
HELD_FOR = 6 * 3600
KINDS = ("audio", "photo")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Held:
    """One kept file: its place among the kept ones, its field's kind, its size."""

    name: str
    kind: str
    size: int


def _root(storage: Storage) -> Path:
    return storage.root / TEMP_DIR / "held"


def _folder(storage: Storage, token: str) -> Path:
    return _root(storage) / hashlib.sha256(b"nuevonorte/held/" + token.encode()).hexdigest()[:40]


def keep(storage: Storage, token: str, files: list[IO[bytes]]) -> list[tuple[int, MediaRejected]]:
    """Clean ``files`` and keep them after those already kept for ``token``; returns the
    files that could not be kept (their place among ``files``, 1-based, and why).

    Ends the session's transaction (nothing of the form was written): the cleaned copies
    ingest stored for it are discarded with it, only the kept copies stay.
    """
    refused: list[tuple[int, MediaRejected]] = []
    if not files:
        return refused
    folder = _folder(storage, token)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    number = len(listed(storage, token))
    try:
        for index, stream in enumerate(files, start=1):
            try:
                cleaned = clean_upload(stream)
            except MediaRejected as rejected:
                refused.append((index, rejected))
                continue
            number += 1
            kind = "photo" if cleaned.kind == MediaKind.IMAGE else "audio"
            name = f"{number:02d}-{kind}"
            partial = folder / f".{name}.part"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out, storage.open(cleaned.keys["original"]) as source:
                shutil.copyfileobj(source, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            _removed_path(folder, name).write_text(json.dumps(cleaned.report.removed))
            partial.rename(folder / name)
    finally:
        db.session.rollback()
    return refused


def _removed_path(folder: Path, name: str) -> Path:
    return folder / f".{name}.removed"


def listed(storage: Storage, token: str) -> list[Held]:
    """The files kept for ``token``, in the order they came."""
    folder = _folder(storage, token)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        number, _, kind = entry.name.partition("-")
        if number.isdigit() and kind in KINDS:
            found.append(Held(entry.name, kind, entry.stat().st_size))
    return found


def open_all(storage: Storage, token: str) -> list[tuple[IO[bytes], list[str]]]:
    """The kept files, open, with what their first cleaning removed; the caller closes them."""
    folder = _folder(storage, token)
    found: list[tuple[IO[bytes], list[str]]] = []
    for h in listed(storage, token):
        try:
            removed = json.loads(_removed_path(folder, h.name).read_text())
        except (OSError, ValueError):
            removed = []
        found.append((open(folder / h.name, "rb"), [str(code) for code in removed]))
    return found


def drop(storage: Storage, token: str, names: set[str]) -> None:
    """Remove the kept files named ``names`` (the person removed them from the form)."""
    folder = _folder(storage, token)
    for held in listed(storage, token):
        if held.name in names:
            (folder / held.name).unlink(missing_ok=True)
            _removed_path(folder, held.name).unlink(missing_ok=True)


def release(storage: Storage, token: str) -> None:
    """Remove everything kept for ``token`` (its story was saved)."""
    shutil.rmtree(_folder(storage, token), ignore_errors=True)


def sweep(storage: Storage, now: float | None = None) -> list[Path]:
    """Remove kept files older than ``HELD_FOR``; returns the folders removed."""
    root = _root(storage)
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    for folder in sorted(root.iterdir()):
        if now - folder.stat().st_mtime > HELD_FOR:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
