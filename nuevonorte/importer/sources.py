"""Where an event comes from: a folder (``nuevonorte import``) or an uploaded zip file (the admin
screen). Both find the one sheet (``*.csv``) and open the files beside it.

Nothing is unpacked: a file is read straight from the folder or the zip into the media ingest,
which copies it into its own locked temporary file. What could read outside the event, or make
reading it endless, is refused before anything else happens: names that leave the folder,
links, and for a zip entries so large, so many or so compressed that unpacking them would fill
the disk (a zip bomb). Only stored and deflated entries are read: their output can never exceed
the size their header declares (``zipfile`` stops there and the CRC check fails), and those sizes
are checked first.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import unicodedata
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Protocol, cast

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from nuevonorte.importer.problems import Problem
from nuevonorte.media import MediaRejected

#: A sheet larger than this is no workshop's: 1,000 stories of 20,000 characters.
MAX_SHEET_BYTES = 20 * 1024 * 1024
#: The most entries a zip may hold (500 stories, each with a few files, fit many times over).
MAX_ENTRIES = 2000
#: Photos and recordings are compressed already; an entry that unpacks to more than this many
#: times its packed size is no media file (a megabyte of zeros packs into a kilobyte).
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
#: The most a zip may unpack to, in uploads' worth (``MAX_CONTENT_LENGTH``).
MAX_UNPACKED_UPLOADS = 4
#: Folders some systems add to a zip file; never the event's own.
IGNORED_FOLDERS = ("__MACOSX",)
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
DRIVE = re.compile(r"^[A-Za-z]:")


class EventSource(Protocol):
    """The sheet of an event and the files beside it."""

    #: What makes the event unreadable as a whole; nothing is imported when there is any.
    problems: list[Problem]

    def sheet(self) -> bytes | None:
        """The sheet's bytes, or None (and a problem) when there is no readable sheet."""

    def unusable(self, name: str) -> LazyString | None:
        """Why the file ``name`` beside the sheet cannot be used, or None when it can."""

    def open(self, name: str) -> IO[bytes]:
        """The file ``name`` beside the sheet, for reading (``unusable`` said it may be used)."""


def plain_name(name: str) -> bool:
    """Whether ``name`` can only name a file beside the sheet: no folder, no way up, not hidden."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in "/\\\0")


def too_large(name: str) -> LazyString:
    """The problem of a file larger than one upload may be."""
    return _l("“%(name)s” is larger than the archive accepts for one file.", name=name)


def _the_sheet(names: list[str], problems: list[Problem]) -> str | None:
    """The one ``*.csv`` among ``names``; otherwise a problem, and None."""
    sheets = sorted(
        n for n in names if n.lower().endswith(".csv") and not posixpath.basename(n).startswith(".")
    )
    if len(sheets) == 1:
        return sheets[0]
    if not sheets:
        problems.append(Problem(_l("There is no sheet (a .csv file) in the event.")))
    else:
        problems.append(
            Problem(_l("There is more than one sheet (.csv file): %(names)s.", names=", ".join(sheets)))
        )
    return None


class EventFolder:
    """An event in a folder on this machine; the sheet and its files directly inside it."""

    def __init__(self, folder: Path, max_file_bytes: int) -> None:
        self.folder = folder
        self.max_file_bytes = max_file_bytes
        self.problems: list[Problem] = []
        with os.scandir(folder) as entries:
            self._sheet = _the_sheet([e.name for e in entries], self.problems)

    def sheet(self) -> bytes | None:
        """The sheet's bytes (a link is refused: it could lead anywhere)."""
        if self._sheet is None:
            return None
        reason = self.unusable(self._sheet, MAX_SHEET_BYTES)
        if reason is not None:
            self.problems.append(Problem(reason))
            return None
        with self.open(self._sheet) as f:
            return f.read(MAX_SHEET_BYTES + 1)

    def unusable(self, name: str, limit: int | None = None) -> LazyString | None:
        """Missing, a link, not a regular file, or too large."""
        try:
            found = os.lstat(self.folder / name)
        except FileNotFoundError:
            return _l("There is no file “%(name)s” beside the sheet.", name=name)
        if stat.S_ISLNK(found.st_mode):
            return _l("“%(name)s” is a link; put the file itself beside the sheet.", name=name)
        if not stat.S_ISREG(found.st_mode):
            return _l("“%(name)s” is not a file.", name=name)
        if found.st_size > (limit or self.max_file_bytes):
            return too_large(name)
        return None

    def open(self, name: str) -> IO[bytes]:
        """Open without following a link (one put there after the check is refused too)."""
        fd = os.open(self.folder / name, os.O_RDONLY | os.O_NOFOLLOW)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"not a regular file: {name}")
        return os.fdopen(fd, "rb")


class EventZip:
    """An event in a zip file: the sheet anywhere in it, its files in the same folder."""

    def __init__(self, stream: IO[bytes], max_file_bytes: int) -> None:
        self.problems: list[Problem] = []
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.folder = ""
        self._sheet: str | None = None
        try:
            self.zip = zipfile.ZipFile(stream)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
            self.problems.append(Problem(_l("This is not a zip file, or it is damaged.")))
            return
        refusal = _zip_refusal(infos, max_file_bytes)
        if refusal is not None:
            self.problems.append(Problem(refusal))
            return
        # Names as one writes them (NFC): a Mac stores "José" decomposed, the sheet has it composed.
        self.entries = {_nfc(i.filename): i for i in infos if not i.is_dir()}
        ours = [n for n in self.entries if PurePosixPath(n).parts[0] not in IGNORED_FOLDERS]
        self._sheet = _the_sheet(ours, self.problems)
        self.folder = posixpath.dirname(self._sheet or "")

    def sheet(self) -> bytes | None:
        """The sheet's bytes, at most ``MAX_SHEET_BYTES`` (a larger one is a problem)."""
        if self._sheet is None:
            return None
        if self.entries[self._sheet].file_size > MAX_SHEET_BYTES:
            self.problems.append(Problem(too_large(self._sheet)))
            return None
        try:
            with self.zip.open(self._sheet) as f:
                return f.read(MAX_SHEET_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            self.problems.append(Problem(_l("The sheet could not be read from the zip file: it is damaged.")))
            return None

    def unusable(self, name: str) -> LazyString | None:
        """Missing beside the sheet (sizes, links and paths were checked for every entry)."""
        if _nfc(posixpath.join(self.folder, name)) not in self.entries:
            return _l("There is no file “%(name)s” beside the sheet.", name=name)
        return None

    def open(self, name: str) -> IO[bytes]:
        """A damaged entry reads as a damaged file: the ingest refuses it as ``corrupt``."""
        entry = self.entries[_nfc(posixpath.join(self.folder, name))]
        return cast("IO[bytes]", _Member(self.zip.open(entry)))

    def close(self) -> None:
        """Close the zip file (not the stream it was read from)."""
        if hasattr(self, "zip"):
            self.zip.close()


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _zip_refusal(infos: list[zipfile.ZipInfo], max_file_bytes: int) -> LazyString | None:
    """Why the zip file is refused as a whole, or None."""
    if len(infos) > MAX_ENTRIES:
        return _l("The zip file holds more than %(count)d files.", count=MAX_ENTRIES)
    names: set[str] = set()
    unpacked = 0
    for info in infos:
        name = info.filename
        if (
            name.startswith("/")
            or DRIVE.match(name)
            or any(c in name for c in "\\\0")
            or ".." in name.split("/")
        ):
            return _l("The zip file holds a path that leads outside its folder: “%(name)s”.", name=name)
        if stat.S_ISLNK(info.external_attr >> 16):
            return _l("The zip file holds a link: “%(name)s”. Put the file itself in it.", name=name)
        if info.flag_bits & 0x1:
            return _l("The zip file is protected with a password.")
        if info.compress_type not in READABLE_METHODS:
            return _l("The zip file is compressed in a way the archive does not read. Make it again.")
        if info.file_size > max_file_bytes:
            return too_large(name)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return _l("“%(name)s” unpacks to far more than its size in the zip file.", name=name)
        if _nfc(name) in names:
            return _l("The zip file holds “%(name)s” twice.", name=name)
        names.add(_nfc(name))
        unpacked += info.file_size
    if unpacked > MAX_UNPACKED_UPLOADS * max_file_bytes:
        return _l("The files in the zip file are larger than the archive accepts at once.")
    return None


class _Member:
    """A zip entry being read; a damaged one raises ``MediaRejected("corrupt")``."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f

    def read(self, size: int = -1) -> bytes:
        try:
            return self.f.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise MediaRejected("corrupt") from e

    def close(self) -> None:
        self.f.close()

    def __enter__(self) -> _Member:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
