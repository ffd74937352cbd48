"""Media ingest: the only way photos and recordings enter the archive.

``ingest_upload`` streams an upload to disk, cleans it in a sandboxed child process (images
rebuilt from their pixels, audio from its stream), stores the results under their content
hash and adds a ``MediaFile`` to the story. ``MediaRejected`` says why a file was refused;
``IngestReport`` says what was removed from an accepted one.
"""

from nuevonorte.media.errors import MediaRejected
from nuevonorte.media.ingest import ingest_upload
from nuevonorte.media.report import IngestReport

__all__ = ["IngestReport", "MediaRejected", "ingest_upload"]
