"""Receipt codes: entropy, format, forgiving normalization, and a slow hash as the only trace."""

from __future__ import annotations

import math
import time

import pytest

from nuevonorte import receipts
from nuevonorte.extensions import db


@pytest.mark.parametrize("lang", ["es", "en"])
def test_code_has_at_least_64_bits_from_the_language_list(lang) -> None:
    words = receipts.wordlist(lang)
    assert len(set(words)) == 2048
    assert receipts.entropy_bits() == receipts.WORDS * math.log2(len(words)) >= 64
    codes = {receipts.new_code(lang) for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code.split(" ")) == 6 and all(w in words for w in code.split(" "))


def test_spanish_and_english_words_are_unique_by_four_plain_letters() -> None:
    """What makes shortened, accentless typing unambiguous within each list."""
    for lang in ("es", "en"):
        plain = [receipts._fold(w) for w in receipts.wordlist(lang)]
        assert len({w[:4] for w in plain}) == 2048


@pytest.mark.parametrize(
    "typed",
    [
        "ábaco acción ácido acné aéreo zumo",
        "  ABACO-accion_ácido,,acne   AEREO\tZUMO ",
        "abac acci acid acne aere zumo",
        "Ábaco. Acción. Ácido. Acné. Aéreo. Zumo.",
    ],
)
def test_typing_back_ignores_case_accents_separators_and_word_endings(typed) -> None:
    assert receipts.normalize(typed, "es") == "abaco accion acido acne aereo zumo"


@pytest.mark.parametrize("typed", ["", "ábaco acción", "ábaco acción ácido acné aéreo zzzz", "a b c d e f"])
def test_not_a_code(typed) -> None:
    assert receipts.normalize(typed, "es") is None
    assert receipts.candidate_hashes(typed) == []


def test_hash_is_deterministic_64_bytes_and_slow() -> None:
    started = time.perf_counter()
    first = receipts.hash_code("abaco accion acido acne aereo zumo")
    elapsed = time.perf_counter() - started
    assert first == receipts.hash_code("abaco accion acido acne aereo zumo") and len(first) == 64
    assert first != receipts.hash_code("abaco accion acido acne aereo zurdo")
    assert elapsed > 0.005  # scrypt with 16 MiB: never a fast hash


def test_issue_and_find(app) -> None:
    contributor, code = receipts.issue("en")
    db.session.commit()
    assert code not in repr(contributor.receipt_hash)
    assert receipts.find_contributor(code) == contributor
    assert receipts.find_contributor(code.upper().replace(" ", " - ")) == contributor
    assert receipts.find_contributor(receipts.new_code("en")) is None
