"""Reading upload requests so that a cut-off upload is noticed and the typed text survives.

Werkzeug throws the whole form away when a multipart body ends early (a phone losing signal,
a missing closing boundary) — and with it the story the person typed. ``tolerate_truncation``
makes the current request keep the text fields that arrived complete and mark the upload as
incomplete, so the view answers "upload incomplete, please retry" with the form filled in.
Files from an incomplete upload are never used: the view saves nothing.
"""

from __future__ import annotations

import typing as t

from flask import g, request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, NeedData


def tolerate_truncation() -> None:
    """Parse this request's form with the tolerant parser (call before touching request.form)."""
    request.form_data_parser_class = _TolerantFormDataParser


def upload_incomplete() -> bool:
    """Whether this request's multipart body ended before it was complete."""
    request.files  # noqa: B018 (parse the body first)
    return bool(g.get("upload_incomplete"))


class _TolerantFormDataParser(FormDataParser):
    def _parse_multipart(
        self, stream: t.IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> tuple[t.IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        parser = _TolerantMultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class _TolerantMultiPartParser(MultiPartParser):
    """Werkzeug's parser (3.1), keeping complete fields when the body stops early."""

    def parse(
        self, stream: t.IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        from werkzeug.sansio.multipart import MultipartDecoder

        decoder = MultipartDecoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        current: Field | File | None = None
        container: list[bytes] | t.IO[bytes] = []
        size = 0
        try:
            while True:
                data = stream.read(self.buffer_size)
                decoder.receive_data(data or None)
                event = decoder.next_event()
                while not isinstance(event, (Epilogue, NeedData)):
                    if isinstance(event, Field):
                        current, container, size = event, [], 0
                    elif isinstance(event, File):
                        current, size = event, 0
                        container = self.start_file_streaming(event, content_length)
                    elif isinstance(event, Data) and current is not None:
                        if isinstance(container, list):
                            size += len(event.data)
                            if self.max_form_memory_size is not None and size > self.max_form_memory_size:
                                raise RequestEntityTooLarge()
                            container.append(event.data)
                        else:
                            container.write(event.data)
                        if not event.more_data:
                            if isinstance(container, list):
                                charset = self.get_part_charset(current.headers)
                                fields.append((current.name, b"".join(container).decode(charset, "replace")))
                            else:
                                container.seek(0)
                                name, filename = current.name, getattr(current, "filename", None)
                                files.append(
                                    (name, FileStorage(container, filename, name, headers=current.headers))
                                )
                            current = None
                    event = decoder.next_event()
                if isinstance(event, Epilogue) or not data:
                    if not isinstance(event, Epilogue):
                        g.upload_incomplete = True
                    break
        except (ValueError, ClientDisconnected):
            g.upload_incomplete = True
        except BaseException:  # a limit was hit (413): close what was opened, then answer
            _close(current, container, files)
            raise
        if g.get("upload_incomplete"):
            _close(current, container, files)
            files = []
        return MultiDict(fields), MultiDict(files)


def _close(current: object, container: object, files: list[tuple[str, FileStorage]]) -> None:
    """Close the temporary files of an upload that will not be used."""
    if current is not None and not isinstance(container, list):
        t.cast(t.IO[bytes], container).close()
    for _name, storage in files:
        storage.close()
