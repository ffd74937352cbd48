"""Receipt codes: the only credential a contributor has, stored as a slow hash and nothing else.

A code is six words drawn with ``secrets`` from the 2048-word BIP-39 list of the person's
language (Spanish or English): 6 × 11 = 66 bits. The archive keeps only a deliberately slow,
deterministic hash (scrypt with a fixed application salt, so a code can be looked up without
knowing who it belongs to); nobody can recover a lost code. Typing it back is forgiving:
case, accents, extra spaces and separators do not matter, and each word may be shortened to
its first four letters (which are unique in both lists).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from functools import cache

from mnemonic import Mnemonic
from sqlalchemy import select

from nuevonorte.extensions import db
from nuevonorte.models import Contributor

WORDS = 6
BITS_PER_WORD = 11  # 2048 words
#: Language code -> BIP-39 list name.
WORDLISTS = {"es": "spanish", "en": "english"}

# A fixed salt: the hash must be found again from the code alone. It is not secret; the slow
# KDF and the 66 bits of the code are what protect it. Changing it invalidates every code.
_SALT = b"nuevonorte/receipt-code/v1"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 64, "maxmem": 64 * 1024 * 1024}
_PREFIX = 4


def entropy_bits() -> int:
    """The entropy of a new code in bits."""
    return WORDS * BITS_PER_WORD


@cache
def wordlist(language: str) -> tuple[str, ...]:
    """The 2048 words for ``language`` ("es" or "en"), as shown to people (with accents)."""
    return tuple(Mnemonic(WORDLISTS[language]).wordlist)


@cache
def _lookup(language: str) -> tuple[dict[str, str], dict[str, str]]:
    """Plain (accentless) word -> itself, and four-letter prefix -> plain word."""
    plain = [_fold(word) for word in wordlist(language)]
    return {w: w for w in plain}, {w[:_PREFIX]: w for w in plain}


def new_code(language: str) -> str:
    """A fresh random code: six words of ``language``'s list separated by spaces."""
    words = wordlist(language if language in WORDLISTS else "es")
    return " ".join(secrets.choice(words) for _ in range(WORDS))


def normalize(text: str, language: str) -> str | None:
    """The canonical form of a typed code in ``language``'s list, or None if it is not one."""
    tokens = typed_words(text)
    if len(tokens) != WORDS:
        return None
    full, prefixes = _lookup(language)
    words = []
    for token in tokens:
        word = full.get(token) or (prefixes.get(token[:_PREFIX]) if len(token) >= _PREFIX else None)
        if word is None:
            return None
        words.append(word)
    return " ".join(words)


def hash_code(canonical: str) -> bytes:
    """The stored hash of a canonical code (64 bytes, slow on purpose)."""
    return hashlib.scrypt(canonical.encode(), salt=_SALT, **_SCRYPT)


def well_formed(text: str) -> bool:
    """Whether ``text`` reads as a code in some list: six code words (no slow hash needed)."""
    return any(normalize(text[:400], lang) is not None for lang in WORDLISTS)


def candidate_hashes(text: str) -> list[bytes]:
    """The hashes a typed code could have: one per word list it can be read in."""
    canonical = {c for lang in WORDLISTS if (c := normalize(text, lang)) is not None}
    return [hash_code(c) for c in sorted(canonical)]


def issue(language: str) -> tuple[Contributor, str]:
    """Create a contributor with a new code (added to the session); return both.

    The code is returned once, to be shown to the person, and never stored anywhere.
    """
    lang = language if language in WORDLISTS else "es"
    code = new_code(lang)
    canonical = normalize(code, lang)
    assert canonical is not None  # a fresh code always reads back
    contributor = Contributor(receipt_hash=hash_code(canonical))
    db.session.add(contributor)
    return contributor, code


def find_contributor(text: str) -> Contributor | None:
    """The contributor whose code was typed, or None (wrong, mistyped or unknown code)."""
    hashes = candidate_hashes(text[:400])
    if not hashes:
        return None
    return db.session.scalar(select(Contributor).where(Contributor.receipt_hash.in_(hashes)))


def _fold(text: str) -> str:
    """Lowercase without accents (ñ becomes n: the lists are unique without them)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def typed_words(text: str) -> list[str]:
    """The words of a typed code as they are compared (lowercase, without accents)."""
    return [t for t in re.split(r"[^a-z]+", _fold(text[:400])) if t]


def unknown_words(text: str) -> list[str]:
    """The typed words that are in neither word list (to say which one to check), in order."""
    unknown = []
    for token in typed_words(text):
        known = False
        for language in WORDLISTS:
            full, prefixes = _lookup(language)
            if token in full or (len(token) >= _PREFIX and token[:_PREFIX] in prefixes):
                known = True
                break
        if not known:
            unknown.append(token)
    return unknown
