"""Media ingest: the only way photos and recordings enter the archive.

``ingest_upload`` streams an upload to disk, cleans it in a sandboxed child process (images
rebuilt from their pixels, audio from its stream), stores the results under their content
hash and adds a ``MediaFile`` to the story. ``MediaRejected`` says why a file was refused;
``IngestReport`` says what was removed from an accepted one.

The three names are imported on first use, not with the package: the sandboxed worker
(``python -I -m nuevonorte.media.worker``) imports this package too, and must import neither
Flask nor the database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nuevonorte.media.errors import MediaRejected
    from nuevonorte.media.ingest import ingest_upload
    from nuevonorte.media.report import IngestReport

__all__ = ["IngestReport", "MediaRejected", "ingest_upload"]

_HOMES = {
    "IngestReport": "nuevonorte.media.report",
    "MediaRejected": "nuevonorte.media.errors",
    "ingest_upload": "nuevonorte.media.ingest",
}


def __getattr__(name: str) -> Any:
    """The public names, imported from their modules when first asked for (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
