"""Files kept while a contribution form is corrected: nothing sent is lost to a form error.

When a form arrives with its files but something in it must be corrected (a missing choice, a
limit for the minute), the files are kept in storage's temporary area, under the hash of the
form's token (``submissions.new_token``), and listed on the page that asks for the
correction. Sending the form again re-attaches them, in the order they came, before any new
file; the person may drop any of them. They are never indexed, never public, never under a
stored key; ``sweep`` removes what no one sent again within ``HELD_FOR`` (run with the other
temporary files: ``nuevonorte sweep``, the app's start, ``check``).

Nothing of the person's own files but their bytes is kept: no filename, no content type.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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


def keep(storage: Storage, token: str, files: list[tuple[str, IO[bytes]]]) -> None:
    """Keep ``files`` (kind, stream) after those already kept for ``token``."""
    if not files:
        return
    folder = _folder(storage, token)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    number = len(listed(storage, token))
    for kind, stream in files:
        if kind not in KINDS:
            raise ValueError(kind)
        number += 1
        stream.seek(0)
        partial = folder / f".{number:02d}-{kind}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        partial.rename(folder / f"{number:02d}-{kind}")
        stream.seek(0)


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


def open_all(storage: Storage, token: str, dropped: set[str] = frozenset()) -> list[tuple[str, IO[bytes]]]:  # type: ignore[assignment]
    """The kept files (kind, open stream), minus ``dropped``; the caller closes them."""
    folder = _folder(storage, token)
    return [(h.kind, open(folder / h.name, "rb")) for h in listed(storage, token) if h.name not in dropped]


def drop(storage: Storage, token: str, names: set[str]) -> None:
    """Remove the kept files named ``names`` (the person removed them from the form)."""
    for held in listed(storage, token):
        if held.name in names:
            (_folder(storage, token) / held.name).unlink(missing_ok=True)


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
