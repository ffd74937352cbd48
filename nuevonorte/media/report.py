"""What ingest removed from a file, told to the contributor in their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from nuevonorte.media.text import localized
from nuevonorte.models import MediaKind

#: Stable codes in the order they are told, with the sentence for each.
MESSAGES = {
    "location": _l("We removed the location where your photo was taken."),
    "camera": _l("We removed the make, model and serial number of the camera or phone."),
    "date": _l("We removed the date and time saved inside the file."),
    "author": _l("We removed names of people and programs saved inside the file."),
    "comment": _l("We removed a comment hidden inside the file."),
    "color_profile": _l("We converted the colours to a standard profile and removed the device's profile."),
    "orientation_applied": _l("We turned the photo upright and removed its rotation setting."),
    "embedded_thumbnail": _l("We removed a small preview copy hidden inside the photo."),
    "audio_tags": _l("We removed the titles, names and notes saved inside your recording."),
    "embedded_picture": _l("We removed a picture hidden inside your recording."),
    "other_metadata": _l("We removed other hidden information saved inside the file."),
}


@dataclass
class IngestReport:
    """The kind of media stored and the stable codes of what was removed from it."""

    kind: MediaKind
    removed: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        """One sentence per removed kind of information, in the active language."""
        return [localized(MESSAGES[code]) for code in MESSAGES if code in self.removed]
