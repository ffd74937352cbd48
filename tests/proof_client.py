"""The visitor's side of a proof of work, in Python, done the way ``static/proof.js`` does it:
read the challenge from the page (or the API's JSON), try 0, 1, 2, … until SHA-256 of
``salt + str(n)`` is the target, and send the token back with that number."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

_BOX = re.compile(r'<div class="proof-of-work"([^>]*)>')
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
_TOKEN = re.compile(r'name="pow_challenge" type="hidden" value="([^"]+)"')


def solve(salt: str, target: str, work: int) -> str:
    """The number below ``work`` whose hash with ``salt`` is ``target``."""
    for n in range(work):
        if hashlib.sha256(f"{salt}{n}".encode()).hexdigest() == target:
            return str(n)
    raise AssertionError("no number below the bound matches the target")


def challenge_on(page: str) -> dict[str, Any] | None:
    """The challenge a page asks the browser to solve, or None when it asks for none."""
    box = _BOX.search(page)
    if box is None:
        return None
    attributes = {name: html.unescape(value) for name, value in _ATTRIBUTE.findall(box.group(1))}
    if "data-salt" not in attributes:
        return None
    token = _TOKEN.search(page[box.end() :])
    assert token, "a challenge without its token"
    return {
        "token": html.unescape(token.group(1)),
        "salt": attributes["data-salt"],
        "target": attributes["data-target"],
        "work": int(attributes["data-work"]),
    }


def answer(challenge: dict[str, Any]) -> dict[str, str]:
    """The two form fields that carry a solved challenge."""
    return {
        "pow_challenge": challenge["token"],
        "pow_nonce": solve(challenge["salt"], challenge["target"], challenge["work"]),
    }


def solved_fields(page: str) -> dict[str, str]:
    """The form fields of the page's solved challenge; none when the page has no challenge."""
    challenge = challenge_on(page)
    return answer(challenge) if challenge else {}
