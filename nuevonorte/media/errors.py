"""Why an upload was refused: a stable code for programs and a localized message for people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from nuevonorte.media.text import localized

ACCEPTED_KINDS = _l("Photos: JPEG, PNG, WebP or HEIC. Recordings: MP3, M4A, Ogg, Opus, WebM, WAV or FLAC.")

MESSAGES = {
    "empty": _l("The file is empty. Please choose it again."),
    "too_large": _l("This file is larger than the archive accepts. Please send a smaller file."),
    "too_many_pixels": _l(
        "This photo has too many pixels for the archive. Please send a smaller copy of it."
    ),
    "unsupported_type": _l("This is not a kind of file the archive accepts."),
    "corrupt": _l("This file seems damaged or incomplete, so we could not open it."),
    "timeout": _l("This file took too long to check. Please try a smaller file or another format."),
    # The memory limit of the child that checks the file, not the upload's size (that is too_large).
    "too_complex": _l(
        "Checking this file needs more memory than the archive can give it. "
        "Please send a smaller or simpler copy of it."
    ),
    # The re-check found a metadata value in the cleaned file: sending it again cannot help.
    "not_cleaned": _l(
        "We could not remove everything in this file that could identify you, so we did not keep it. "
        "You can send another copy instead, like a screenshot of the photo or a new recording."
    ),
    "storage_full": _l("The archive has no room for this file right now. Please try again later."),
    "storage_error": _l(
        "Something went wrong while saving the file. Nothing was kept. Please try again later."
    ),
}

#: What the re-check found in a file it refused as not_cleaned, as the sandbox child names it,
#: for the administrator's log line (never the value itself): a value of the recording's tags,
#: text from outside the recording's audio (trailing tags, chunks), a metadata value of the photo.
LEFTOVERS = frozenset({"audio_tag", "audio_text", "image_metadata"})

#: Codes whose message also names the kinds of file the archive accepts.
NAME_KINDS = {"unsupported_type", "corrupt"}
#: The HTTP status of a refusal where it is not 422: a full disk is the archive's fault, not the file's.
STATUS = {"storage_full": 507}


class MediaRejected(Exception):
    """An upload the archive refused; nothing of it was kept."""

    def __init__(self, code: str, leftover: object = None) -> None:
        if code not in MESSAGES:
            code = "storage_error"
        super().__init__(code)
        self.code = code
        #: For not_cleaned: which of LEFTOVERS the re-check found, "unknown" when not told (what
        #: else the child may say is never repeated); None for any other refusal.
        self.leftover: str | None = None
        if code == "not_cleaned":
            self.leftover = leftover if isinstance(leftover, str) and leftover in LEFTOVERS else "unknown"

    @property
    def status(self) -> int:
        """The HTTP status the form and the API answer with: 507 for a full disk, else 422."""
        return STATUS.get(self.code, 422)

    @property
    def message(self) -> str:
        """The reason in the active language, naming the accepted kinds where that helps."""
        text = localized(MESSAGES[self.code])
        if self.code in NAME_KINDS:
            text = f"{text} {localized(ACCEPTED_KINDS)}"
        return text
