"""Media in an S3-compatible bucket (``media_storage = "s3"``), for several web machines.

The bucket holds exactly what the media folder holds on disk: one object per content-addressed
key, named ``<prefix><first two characters>/<key>``. Everything else stays on this machine's
``media_dir``: temporary files (uploads being cleaned, downloads for the sandbox) and the intents
that tie files to transactions (``storage``), so a file follows its transaction as on disk: it
is cleaned locally, its key written into the intent, then uploaded; deleted only after the
commit that dropped its last row; a dead process's keys are deleted by ``recover`` when no row
names them; ``check --repair`` deletes objects no row names.

The app is the only door: ``/media/`` streams objects (Range included) and never hands out a
presigned address, which would send visitors' addresses to the storage service's logs. A bucket
with versioning enabled or suspended is refused at start: deleting an object there leaves its
bytes behind a delete marker, and a withdrawal must delete the bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nuevonorte.storage import KEY_PATTERN, Storage, StorageError, content_type, sha256_file

#: Read this much of an object per request of the stream (a recording is read in pieces).
CHUNK = 1024 * 1024
#: An object no row names is deleted by ``recover`` only once it is this old: another machine's
#: writer (whose intents are on its own disk) may have stored it, or stored the same content
#: again, for a transaction that has not committed yet. An upload's transaction is far shorter.
RECOVER_GRACE_S = 3600


class ObjectStorage(Storage):
    """Stored files in a bucket; the local root keeps temporary files and intents only."""

    remote = True

    def __init__(
        self,
        root: str | Path,
        static_folder: str | None,
        *,
        endpoint: str,
        bucket: str,
        prefix: str,
        region: str,
        access_key: str,
        secret_key: str,
    ) -> None:
        super().__init__(root, static_folder)
        if not bucket:
            raise StorageError("s3_bucket must be set when media_storage is s3")
        self.bucket, self.prefix, self.endpoint = bucket, prefix, endpoint
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(
                # Whole-object checksums only when the service requires them: a checksum over a
                # Range answer would not match the whole object's.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], static_folder: str | None) -> ObjectStorage:
        return cls(
            config["MEDIA_DIR"],
            static_folder,
            endpoint=config["S3_ENDPOINT"],
            bucket=config["S3_BUCKET"],
            prefix=config["S3_PREFIX"],
            region=config["S3_REGION"],
            access_key=config["S3_ACCESS_KEY"],
            secret_key=config["S3_SECRET_KEY"],
        )

    def describe(self) -> str:
        return f"the media bucket {self.bucket} at {self.endpoint or 'AWS'}"

    def check_bucket(self) -> None:
        """Refuse a bucket that cannot be reached or that keeps deleted objects' bytes."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            versioning = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except (ClientError, BotoCoreError) as error:
            raise StorageError(f"the media bucket cannot be reached: {type(error).__name__}") from error
        if versioning in ("Enabled", "Suspended"):
            raise StorageError(
                f"the media bucket {self.bucket} has versioning {versioning.lower()}: a withdrawal "
                "would leave the file's bytes behind a delete marker. Use a bucket without versioning."
            )

    def name(self, key: str) -> str:
        """The object name of ``key``; refuses anything that is not a key."""
        if not KEY_PATTERN.fullmatch(key):
            raise StorageError("not a storage key")
        return f"{self.prefix}{key[:2]}/{key}"

    def path(self, key: str) -> Path:
        raise StorageError("media in a bucket have no local path: use open, size or local_copy")

    def put_file(
        self, temp_path: str | Path, extension: str, *, digest: str | None = None, sync_folder: bool = True
    ) -> str:
        """Upload a finished temporary file under its content hash, then remove it; return the key."""
        temp_path = Path(temp_path)
        key = f"{digest or sha256_file(temp_path)}.{extension}"
        with temp_path.open("rb") as f, _io():
            self.client.put_object(
                Bucket=self.bucket, Key=self.name(key), Body=f, ContentType=content_type(key) or ""
            )
        temp_path.unlink(missing_ok=True)
        return key

    def sync_folders(self, keys: Iterable[str]) -> None:
        """An object is durable once its upload was answered."""

    def open(self, key: str) -> IO[bytes]:
        """A seekable reader of the object, fetched in ranges as it is read."""
        return io.BufferedReader(ObjectReader(self, key, self.size(key)), buffer_size=CHUNK)

    def size(self, key: str) -> int:
        with _io():
            return int(self.client.head_object(Bucket=self.bucket, Key=self.name(key))["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
            return True
        except FileNotFoundError:
            return False

    def delete(self, key: str) -> None:
        with _io():
            self.client.delete_object(Bucket=self.bucket, Key=self.name(key))

    def settled(self, keys: list[str]) -> list[str]:
        """The keys whose objects were last written more than ``RECOVER_GRACE_S`` ago."""
        wanted = set(keys)
        now = time.time()
        return sorted(
            key
            for key, _size, written in self._listing()
            if key in wanted and now - written > RECOVER_GRACE_S
        )

    def _listing(self) -> Iterator[tuple[str, int, float]]:
        """Each stored key with its size and when it was last written (Unix time)."""
        with _io():
            pages = list(
                self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            )
        for page in pages:
            for item in page.get("Contents", []):
                rest = item["Key"][len(self.prefix) :]
                shard, _, key = rest.partition("/")
                if KEY_PATTERN.fullmatch(key) and key[:2] == shard:
                    yield key, int(item["Size"]), item["LastModified"].timestamp()

    def keys(self) -> Iterator[str]:
        for key, _size, _written in sorted(self._listing()):
            yield key

    def sizes(self, keys: Iterable[str]) -> dict[str, int]:
        wanted = {k for k in keys if KEY_PATTERN.fullmatch(k)}
        return {key: size for key, size, _written in self._listing() if key in wanted}

    def holds_files(self) -> bool:
        return next(iter(self._listing()), None) is not None

    @contextmanager
    def local_copy(self, key: str) -> Iterator[str]:
        """The object downloaded into a locked temporary file, removed after the block."""
        with self.temp_file() as f:
            try:
                with _io():
                    self.client.download_fileobj(self.bucket, self.name(key), f)
                f.flush()
                yield f.name
            finally:
                Path(f.name).unlink(missing_ok=True)

    def verify(self, key: str) -> bool:
        try:
            digest = hashlib.sha256()
            with self.open(key) as reader:
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == key.split(".", 1)[0]


class ObjectReader(io.RawIOBase):
    """A read-only, seekable file over one object: each read after a seek opens a ranged GET
    from that offset to the end, read in pieces (so sending a recording holds ``CHUNK`` bytes,
    not the recording, and a Range answer fetches only its part)."""

    def __init__(self, storage: ObjectStorage, key: str, size: int) -> None:
        super().__init__()
        self.storage, self.key, self.length = storage, key, size
        self.pos = 0
        self.body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: self.length}[whence]
        target = max(0, base + offset)
        if target != self.pos:
            self._drop()
            self.pos = target
        return self.pos

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.length:
            return 0
        with _io():
            if self.body is None:
                answer = self.storage.client.get_object(
                    Bucket=self.storage.bucket,
                    Key=self.storage.name(self.key),
                    Range=f"bytes={self.pos}-{self.length - 1}",
                )
                self.body = answer["Body"]
            data = self.body.read(min(len(buffer), CHUNK))
        if not data:
            return 0
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def _drop(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self) -> None:
        self._drop()
        super().close()


@contextmanager
def _io() -> Iterator[None]:
    """The storage service's errors as the same errors a disk gives: a missing object is
    FileNotFoundError, anything else (unreachable, refused, timed out) an OSError."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code"))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise FileNotFoundError("no such object") from None
        raise OSError(f"media storage: {code}") from None
    except BotoCoreError as error:
        raise OSError(f"media storage: {type(error).__name__}") from None
