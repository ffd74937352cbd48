"""A BagIt 1.0 package (RFC 8493) that appears at its destination only when whole and valid.

The payload is written into a hidden folder beside the destination (same filesystem), turned
into a bag by the ``bagit`` library, declared BagIt 1.0, validated with bagit's own validator,
synced to disk, and only then renamed into place. Whatever stops it before the rename (an
error, a full disk, a SIGKILL) leaves no folder at the destination; an error removes the hidden
folder at once, and the next export into the same parent folder removes one a killed export
left (it holds a lock on the parent folder while it runs, so no living export loses its own).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import bagit

from nuevonorte import faults
from nuevonorte.storage import fsync_dir

#: Both checksums RFC 8493 names; sha512 is the one it recommends, sha256 the archive's own.
CHECKSUMS = ["sha256", "sha512"]
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
PARTIAL = ".partial"


class DestinationRefused(Exception):
    """The destination cannot take a package; the message is one line for the admin."""


def check_destination(dest: Path) -> None:
    """Refuse a destination that exists and is not an empty folder (nothing is changed)."""
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise DestinationRefused(f"{dest} exists and is not a folder; give a new or empty folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise DestinationRefused(f"{dest} is not empty; give a new or empty folder")
    if not dest.parent.is_dir():
        raise DestinationRefused(f"{dest.parent} does not exist")


def make(dest: Path, fill: Callable[[Path], None], bag_info: dict[str, str]) -> None:
    """Write a validated bag at ``dest``: ``fill(payload_folder)`` writes the payload.

    Raises ``DestinationRefused`` (nothing changed), or whatever stopped the writing (an
    ``OSError`` for a full disk, ``bagit.BagError`` for an invalid bag) after removing every
    file it wrote.
    """
    dest = dest.absolute()
    check_destination(dest)
    with _parent_locked(dest.parent):
        _remove_abandoned(dest)
        work = dest.parent / f".{dest.name}.{os.getpid()}{PARTIAL}"
        work.mkdir(mode=0o700)
        try:
            fill(work)
            faults.point("export.filled")
            with _quiet_bagit():
                bagit.make_bag(str(work), bag_info=dict(bag_info), checksums=CHECKSUMS)
                _declare_version_1(work)
                bagit.Bag(str(work)).validate()
            _sync_tree(work)
            faults.point("export.validated")
            check_destination(dest)  # still new or empty: never replace what someone put there
            os.rename(work, dest)  # onto a missing or empty folder: atomic
            fsync_dir(dest.parent)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise


@contextlib.contextmanager
def _parent_locked(parent: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``parent`` while exporting into it (released with the process)."""
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DestinationRefused(f"another export into {parent} is running") from None
        yield
    finally:
        os.close(fd)


def _remove_abandoned(dest: Path) -> None:
    """Remove the hidden folders that killed exports to ``dest`` left (we hold the lock)."""
    prefix = f".{dest.name}."
    for left in dest.parent.iterdir():
        if left.name.startswith(prefix) and left.name.endswith(PARTIAL) and not left.is_symlink():
            shutil.rmtree(left, ignore_errors=True)


def _declare_version_1(bag_dir: Path) -> None:
    """bagit 1.9 writes "BagIt-Version: 0.97" (LibraryOfCongress/bagit-python#141); this bag
    follows RFC 8493, so say 1.0 and let bagit rewrite the tag manifests that cover bagit.txt."""
    (bag_dir / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    bag = bagit.Bag(str(bag_dir))
    bag.save()


@contextlib.contextmanager
def _quiet_bagit() -> Iterator[None]:
    """bagit logs every file it moves and a traceback of any error we report ourselves."""
    logger = logging.getLogger("bagit")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _sync_tree(root: Path) -> None:
    """fsync every file and folder under ``root``, so the rename never outlives its contents."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))
