"""Encrypted backups of the archive, and their restore (``nuevonorte backup`` / ``restore``).

A backup folder (DEST) holds::

    ARCHIVE                       the archive's public id (random-looking, tells nothing else)
    objects/<2 hex>/<name>.<sha256 of the ciphertext>.age
                                  media files, encrypted, shared by every snapshot
    snapshots/<UTC time>/         manifest.age, database.age, config.age
    snapshots/<UTC time>.partial/ a backup being written (or one that died): never restored

Everything but ``ARCHIVE`` is encrypted with age to the configured ``backup_recipients``, whose
identities the server never holds (decision 0014). A media object is named by an HMAC of its
storage key under a key derived from the secret key, never by its plaintext sha256: someone
holding a known photo cannot confirm it is in the backup. The search index and the withdrawal
ledger are never copied: restore rebuilds the index and replays the ledger.
"""

from __future__ import annotations


class BackupError(Exception):
    """A backup could not be made; the message says why in one line. Nothing was left half done."""


class RestoreRefused(Exception):
    """A restore was refused before anything changed; the message says why in one line."""
