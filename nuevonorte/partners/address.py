"""A partner's address and the only addresses of it this archive ever fetches.

A partner is known by its public address (``https://archivo.example.org``, optionally with a
path when it is served under one). Every request to it is built here from that address and a
fixed path; no address a partner hands us (an ``api_url``, a ``next_url``, a redirect) is ever
followed, so a partner cannot make this archive fetch anything else.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode, urlsplit

from nuevonorte.config import LOOPBACK_HOSTS

#: A story or collection id as a Nuevo Norte archive gives them.
REMOTE_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


#: A host name or IP address, with an optional port; a path of plain segments.
HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?"
)
PATH = re.compile(r"(?:/[A-Za-z0-9._~-]+)*/?")


class BadAddress(ValueError):
    """Not an address a partner may have (``code`` says why)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalised(value: str, allow_http: bool = False) -> str:
    """``value`` as scheme://host[:port][/path] without a trailing slash.

    https only, except on loopback (and when ``allow_http``: a development archive): notices and
    keys travel over it. No user name, query or fragment."""
    try:
        parts = urlsplit(value.strip())
        port_ok = parts.port != 0  # reading the port raises ValueError when it is not a number
    except ValueError:
        raise BadAddress("bad_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise BadAddress("bad_url")
    if "@" in parts.netloc or parts.query or parts.fragment or len(value) > 250:
        raise BadAddress("bad_url")
    if not HOST.fullmatch(parts.netloc.lower()) or not PATH.fullmatch(parts.path):
        raise BadAddress("bad_url")  # the address goes into the Content-Security-Policy
    if parts.scheme == "http" and not (allow_http or parts.hostname in LOOPBACK_HOSTS):
        raise BadAddress("not_https")
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc.lower()}{path}"


def origin(url: str) -> str:
    """scheme://host[:port] of a partner: what the Content-Security-Policy names."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def endpoint(base: str, path: str, **args: str | int) -> str:
    """``base`` + ``path`` (a fixed path of ours, with ids already checked) + query."""
    query = f"?{urlencode(args)}" if args else ""
    return f"{base}{path}{query}"


def story_api(base: str, remote_id: str) -> str:
    """The read API's address of one story at ``base``."""
    if not REMOTE_ID.fullmatch(remote_id):
        raise BadAddress("bad_id")
    return endpoint(base, f"/api/v1/stories/{quote(remote_id)}")


def on_partner(base: str, url: object) -> str | None:
    """``url`` when it is an address on the partner ``base`` (media, a story's page), else None.

    Used for what pages link to and load (a picture, a recording, the origin's page), never to
    decide what to fetch."""
    if not isinstance(url, str) or len(url) > 500:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if f"{parts.scheme}://{parts.netloc}" != origin(base) or not parts.path.startswith(urlsplit(base).path):
        return None
    return url
