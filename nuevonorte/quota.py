"""Daily upload quotas: for each contributor, and for the whole archive (docs/security.md U20).

A contributor is a browser session. Its signed session cookie (the one the form already sets
for CSRF) holds only today's day number and how many files and bytes it sent today: no
address, no receipt code, nothing that tells one person from another. The partner API counts
the same way when its client keeps the cookie. Whoever clears cookies starts a new quota, so a
global cap on the bytes received per day, counted in the database like the rate limits
(``nuevonorte.ratelimit``), bounds the worst case: disk use can grow by at most that much a day.

Checks happen before anything is stored. The archive's counter is reserved then, so that
parallel uploads cannot pass the cap together, and given back when ingest refuses the files
(junk must not use up the day's cap for everyone); the session's counters grow only once the
contribution is committed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from flask import current_app, session
from flask_babel import gettext as _
from flask_babel import ngettext

from nuevonorte import ratelimit

DAY = 86_400
MB = 1024 * 1024
_KEY = "upload_quota"
#: The database counter of bytes received per day by the whole archive, in KiB.
ARCHIVE_COUNTER = "upload-kib"


class QuotaExceeded(Exception):
    """An upload that would pass today's quota: ``reason`` is files, bytes or archive."""

    #: The HTTP status and the API's stable error code for each reason.
    STATUS = {"files": 429, "bytes": 413, "archive": 429}
    CODES = {"files": "quota_files", "bytes": "quota_bytes", "archive": "quota_archive"}

    def __init__(self, reason: str, retry_after: int, left: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.left = left

    @property
    def status(self) -> int:
        """429 for too many files or a full archive, 413 for too many bytes."""
        return self.STATUS[self.reason]

    @property
    def code(self) -> str:
        """The API's stable error code."""
        return self.CODES[self.reason]

    def message(self) -> str:
        """What happened and what to do, in the current language."""
        config = current_app.config
        if self.reason == "files":
            return str(
                ngettext(
                    "You can send up to %(num)d file a day; today you can still send %(left)d. "
                    "Send fewer files, or send them tomorrow.",
                    "You can send up to %(num)d files a day; today you can still send %(left)d. "
                    "Send fewer files, or send them tomorrow.",
                    config["CONTRIBUTOR_DAILY_FILES"],
                    left=self.left,
                )
            )
        if self.reason == "bytes":
            return str(
                _(
                    "You can send up to %(total)d MB of files a day; today you can still send "
                    "%(left)d MB. Send fewer or smaller files, or send them tomorrow.",
                    total=config["CONTRIBUTOR_DAILY_BYTES"] // MB,
                    left=self.left // MB,
                )
            )
        return str(_("The archive has received all the files it can take today. Please try again tomorrow."))


def sizes(streams: Sequence[IO[bytes]]) -> list[int]:
    """The size in bytes of each uploaded file (already received), without reading it."""
    result = []
    for stream in streams:
        position = stream.tell()
        result.append(stream.seek(0, 2))
        stream.seek(position)
    return result


@dataclass(frozen=True)
class Reservation:
    """KiB added to the archive's counter at ``at``; give them back with ``release``."""

    kib: int
    at: float


def check(file_sizes: Sequence[int], now: float | None = None) -> Reservation | None:
    """Refuse files that would pass this session's or the archive's quota for today.

    Raises QuotaExceeded. When the files fit, their bytes are reserved at once in the archive's
    counter (shared by every worker); this session's counters grow only in ``record``.
    """
    if not file_sizes:
        return None
    now = time.time() if now is None else now
    config = current_app.config
    retry_after = max(1, int((int(now // DAY) + 1) * DAY - now))
    files, received = _used(now)
    files_left = max(0, config["CONTRIBUTOR_DAILY_FILES"] - files)
    if len(file_sizes) > files_left:
        raise QuotaExceeded("files", retry_after, files_left)
    bytes_left = max(0, config["CONTRIBUTOR_DAILY_BYTES"] - received)
    if sum(file_sizes) > bytes_left:
        raise QuotaExceeded("bytes", retry_after, bytes_left)
    kib = -(-sum(file_sizes) // 1024)
    try:
        ratelimit.reserve(ARCHIVE_COUNTER, kib, config["DAILY_UPLOAD_BYTES"] // 1024, DAY, now)
    except ratelimit.RateLimited as e:
        raise QuotaExceeded("archive", e.retry_after) from None
    return Reservation(kib, now)


def release(reservation: Reservation | None) -> None:
    """Give back a reservation whose files were refused (nothing of them was stored)."""
    if reservation is not None:
        ratelimit.release(ARCHIVE_COUNTER, reservation.kib, DAY, reservation.at)


def record(file_sizes: Sequence[int], now: float | None = None) -> None:
    """Count committed files against this session's quota for today."""
    if not file_sizes:
        return
    now = time.time() if now is None else now
    files, received = _used(now)
    session[_KEY] = {
        "day": int(now // DAY),
        "files": files + len(file_sizes),
        "bytes": received + sum(file_sizes),
    }


def forget() -> None:
    """Drop this session's counters (the device forgets that it sent anything)."""
    session.pop(_KEY, None)


def _used(now: float) -> tuple[int, int]:
    """Files and bytes this session sent today; a counter from another day is zero."""
    value = session.get(_KEY)
    if not isinstance(value, dict) or value.get("day") != int(now // DAY):
        return 0, 0
    files, received = value.get("files"), value.get("bytes")
    if not isinstance(files, int) or not isinstance(received, int):
        return 0, 0
    return max(0, files), max(0, received)
