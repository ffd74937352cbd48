"""A real full disk, through the web form and the API (docs/security.md F03, M18).

The media folder lives on a tmpfs of a few MB (mounting one needs root or CAP_SYS_ADMIN; the
tests skip, with the reason, where that is not allowed). A filler file beside the media folder
leaves as little room as each test needs, so the disk fills for real: either while the web
process receives the upload, or inside the sandbox child while it writes the cleaned file.
Either way the person gets 507 and the archive's message in their language, their text back
(and, in the browser, their chosen files), and the administrator one log line that says
nothing about the upload; nothing of the contribution remains.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests import media_samples
from tests.contribute_fixtures import contribute, nothing_stored, sent, story_form, upload
from tests.support import require

DISK_BYTES = 4 * 1024 * 1024
TITLE = "Cruzando el desierto"
BODY = "Salí de Oaxaca en marzo con mi hermana."
NAMES = ("voz-de-mi-hermana.wav", "frontera-Tijuana.png")
FULL = {
    "en": "The archive has no room for this file right now. Please try again later.",
    "es": "Ahora mismo no tenemos espacio para este archivo. Por favor, inténtalo más tarde.",
}
WHICH = {"en": "File 2 of 2:", "es": "Archivo 2 de 2:"}
#: What the administrator reads: what to fix, nothing about the upload or the person.
ADMIN_LINE = "storage full: an upload was refused"


class SmallDisk:
    """A mounted tmpfs: the media folder, and a filler file beside it that takes the room."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.media = root / "media"
        self.filler = root / "filler"

    def free(self) -> int:
        """Bytes still free on the disk."""
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def leave(self, free_bytes: int) -> None:
        """Fill the disk until only ``free_bytes`` remain (the filler is outside the media folder)."""
        with self.filler.open("ab") as filler:
            filler.write(b"\0" * (self.free() - free_bytes))
            filler.flush()
            os.fsync(filler.fileno())
        assert abs(self.free() - free_bytes) <= 2 * os.statvfs(self.root).f_frsize

    def empty(self) -> None:
        """Give the room back, as an administrator would."""
        self.filler.unlink()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A real filesystem of DISK_BYTES that fills up with ENOSPC like any full disk."""
    root = tmp_path / "small-disk"
    root.mkdir()
    require(shutil.which("mount") is not None, "no mount command to make a small disk")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "nuevonorte-f03", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    why = mounted.stderr.strip()
    if mounted.returncode != 0:
        # A permission of the machine, not a tool CI could install: a skip even under
        # NUEVONORTE_REQUIRE_ALL (F03's other tests still run: ENOSPC and RLIMIT_FSIZE).
        pytest.skip(f"a real full disk needs a tmpfs; mounting one needs root and CAP_SYS_ADMIN: {why}")
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", str(root)], check=True)


@pytest.fixture
def app_config(app_config: dict[str, Any], small_disk: SmallDisk) -> dict[str, Any]:
    """The usual test app, with its media folder on the small disk."""
    return {**app_config, "media_dir": str(small_disk.media)}


def row_noise_png() -> bytes:
    """A 19 KB PNG (every row the same, so it compresses to almost nothing) whose cleaned
    JPEG copies take about 1 MB: the upload fits on the disk, its outputs do not."""
    row = Image.effect_noise((2000, 1), 80).convert("RGB")
    return media_samples.png(row.resize((2000, 1500), Image.Resampling.NEAREST))


#: How each test fills the disk: the free bytes left, and the second file of the contribution.
#: A 384 KB recording does not fit in 128 KB while it is received; in 600 KB it is received,
#: and then its cleaned copy does not fit while the sandbox child writes it; so for the copies
#: of the photo. (Each request stays under 500 KB, which Werkzeug's test client would spool to
#: a temporary file it never closes.)
WHERE = {
    "receiving": (128 * 1024, lambda: upload(media_samples.wav(seconds=12), NAMES[0])),
    "child-audio": (600 * 1024, lambda: upload(media_samples.wav(seconds=12), NAMES[0])),
    "child-photo": (400 * 1024, lambda: upload(row_noise_png(), NAMES[1])),
}


def files(where: str) -> dict[str, list[Any]]:
    """A small recording that fits, then the file that fills the disk (as file 2 of 2)."""
    second = WHERE[where][1]()
    first = upload(media_samples.wav(), "first.wav")
    if where == "child-photo":
        return {"audio": [first], "photos": [second]}
    return {"audio": [first, second]}


def assert_one_log_line_without_content(caplog: pytest.LogCaptureFixture, disk: SmallDisk) -> None:
    """Exactly one error for the administrator, and no log line carries the person's words,
    the file names or where the files are kept (M18)."""
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [ADMIN_LINE]
    for secret in (TITLE, BODY, "Oaxaca", *NAMES, str(disk.root)):
        assert secret not in caplog.text


@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_full_disk_is_507_on_the_form_with_the_text_kept_F03(
    app, client, small_disk, caplog, lang, where
) -> None:
    """Form: 507, the full-disk message (not "damaged file") in the page's language, the typed
    text back in the form, one content-free log line, no row and no file left."""
    small_disk.leave(WHERE[where][0])
    caplog.set_level(logging.INFO)
    response = contribute(client, lang, title=TITLE, body=BODY, **files(where))
    html = response.get_data(as_text=True)
    assert response.status_code == 507, html
    assert f"{WHICH[lang]} {FULL[lang]}" in html
    assert TITLE in html and BODY in html
    # contribute.js keeps the chosen files in the page when the answer has both of these.
    assert 'id="problem"' in html and 'id="contribute-form"' in html
    assert_one_log_line_without_content(caplog, small_disk)
    nothing_stored(app)
    small_disk.empty()  # "try again later" is true: once there is room, the same contribution goes in
    again = contribute(client, lang, title=TITLE, body=BODY, **files(where))
    assert sent(again)


@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_full_disk_is_507_json_naming_the_file_F03(app, client, small_disk, caplog, lang, where) -> None:
    """API: 507 with ``file_error: storage_full`` for file 2 and the localized message; nothing
    was kept, so the client still holds the whole contribution and sends it again later."""
    small_disk.leave(WHERE[where][0])
    caplog.set_level(logging.INFO)
    data = {**story_form(title=TITLE, body=BODY), **files(where)}
    response = client.post(
        "/api/v1/contributions",
        data=data,
        headers={"Accept-Language": lang},
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert response.status_code == 507, body
    assert body == {
        "error": "file_refused",
        "file": 2,
        "file_error": "storage_full",
        "kept": False,
        "message": FULL[lang],
    }
    assert_one_log_line_without_content(caplog, small_disk)
    nothing_stored(app)
