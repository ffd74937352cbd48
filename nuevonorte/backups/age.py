"""age encryption of backup files (pyrage), streamed, with the sha256 of both sides.

pyrage's ``encrypt_io``/``decrypt_io`` read and write in chunks: a 200 MB file is encrypted
with about 12 MB of memory (measured), so media files are never read whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyrage
from pyrage import x25519

from nuevonorte.backups import BackupError, RestoreRefused


@dataclass(frozen=True)
class Sums:
    """The sha256 and size of a file's plaintext and of its ciphertext."""

    plain_sha256: str
    plain_size: int
    cipher_sha256: str
    cipher_size: int


class _HashingReader:
    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.hash, self.size = f, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data


class _HashingWriter:
    def __init__(self, f: IO[bytes] | None) -> None:
        self.f, self.hash, self.size = f, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        if self.f is not None:
            self.f.write(data)
        return len(data)

    def flush(self) -> None:
        if self.f is not None:
            self.f.flush()


def recipients(values: list[str]) -> list[Any]:
    """The configured ``backup_recipients`` as age recipients; BackupError when none or a bad one."""
    if not values:
        raise BackupError(
            "no backup_recipients are configured: add the workshop's age public key (age1...) "
            "to the configuration (see docs/parts/operations.md, 'Backups')"
        )
    parsed = []
    for value in values:
        try:
            parsed.append(x25519.Recipient.from_str(value.strip()))
        except pyrage.RecipientError:
            raise BackupError(
                f"backup_recipients holds something that is not an age public key: {value[:12]}…"
            ) from None
    return parsed


def identities(path: Path) -> list[Any]:
    """The age identities of an identity file (``age-keygen`` writes one; comments allowed)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise RestoreRefused(f"cannot read the identity file {path}: {e.__class__.__name__}") from None
    found = []
    for line in lines:
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-"):
            try:
                found.append(x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise RestoreRefused(f"the identity file {path} holds a damaged age key") from None
    if not found:
        raise RestoreRefused(f"the identity file {path} holds no age key (AGE-SECRET-KEY-...)")
    return found


def encrypt(source: IO[bytes], target: IO[bytes], to: list[Any]) -> Sums:
    """Encrypt ``source`` into ``target`` (streamed); the sums of both sides."""
    reader, writer = _HashingReader(source), _HashingWriter(target)
    pyrage.encrypt_io(reader, writer, to)
    return Sums(reader.hash.hexdigest(), reader.size, writer.hash.hexdigest(), writer.size)


def decrypt(source: IO[bytes], target: IO[bytes] | None, keys: list[Any]) -> Sums:
    """Decrypt ``source`` into ``target`` (or only hash it, when None); the sums of both sides.

    Raises ``pyrage.DecryptError`` (or OSError from inside pyrage) when the ciphertext is not for
    these keys, damaged or cut short."""
    reader, writer = _HashingReader(source), _HashingWriter(target)
    pyrage.decrypt_io(reader, writer, keys)
    return Sums(writer.hash.hexdigest(), writer.size, reader.hash.hexdigest(), reader.size)


def encrypt_bytes(data: bytes, to: list[Any]) -> bytes:
    """Small things (the manifest, the configuration)."""
    return bytes(pyrage.encrypt(data, to))


def decrypt_bytes(data: bytes, keys: list[Any]) -> bytes:
    """Small things; raises pyrage.DecryptError when not for these keys or damaged."""
    return bytes(pyrage.decrypt(data, keys))
