"""The one way out to a partner archive: a GET or POST to an address ``address`` built, with no
redirect followed, a time limit per request and a size limit on every answer. A partner that is
down, slow, or answers something else than JSON raises ``Unreachable`` with a reason code (never
the partner's words: they go to no log).

Tests may hand the application a transport (``TRANSPORT``): httpx's own WSGI transport, so that
two real archives in one process talk HTTP to each other.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any

import httpx
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as defused
from flask import current_app

#: The most a partner's answer may weigh: a page of 100 changes, or one story's public text.
MAX_BYTES = 2 * 1024 * 1024
TRANSPORT = "nuevonorte.partner_transport"
USER_AGENT = "NuevoNorte-partner/1"


class Unreachable(Exception):
    """The partner could not be read: ``code`` says why (``partners.messages``)."""

    def __init__(self, code: str, status: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def _client() -> httpx.Client:
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(float(current_app.config["PARTNER_TIMEOUT_SECONDS"])),
        transport=current_app.extensions.get(TRANSPORT),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        trust_env=False,  # no proxy from the environment: partners are reached directly
    )


def get_json(url: str, ok: tuple[int, ...] = (200,)) -> Answer:
    return _request("GET", url, None, {}, ok)


def post_json(url: str, body: bytes, headers: dict[str, str], ok: tuple[int, ...] = (200,)) -> Answer:
    return _request("POST", url, body, {"Content-Type": "application/json", **headers}, ok)


def get_xml(url: str) -> ET.Element:
    """A GET whose answer is XML (OAI-PMH), parsed with no DTD, entity or external reference
    allowed, whatever its encoding (defusedxml)."""
    status, data = _raw("GET", url, None, {"Accept": "text/xml"})
    if status != 200:
        raise Unreachable("bad_status", status)
    try:
        root: ET.Element = defused.fromstring(data, forbid_dtd=True)
        return root
    except (ET.ParseError, DefusedXmlException):
        raise Unreachable("not_oai") from None


def _request(
    method: str, url: str, body: bytes | None, headers: dict[str, str], ok: tuple[int, ...]
) -> Answer:
    status, data = _raw(method, url, body, headers)
    if status not in ok:
        raise Unreachable("bad_status", status)
    try:
        return Answer(status, json.loads(data))
    except ValueError:
        raise Unreachable("not_json", status) from None


#: A whole request (connecting, sending, every byte of the answer) may take this many times the
#: per-step time limit: a partner sending a byte every few seconds is cut off.
WHOLE_REQUEST = 3


def _raw(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    deadline = time.monotonic() + WHOLE_REQUEST * float(current_app.config["PARTNER_TIMEOUT_SECONDS"])
    try:
        with _client() as client, client.stream(method, url, content=body, headers=headers) as response:
            if response.is_redirect:
                raise Unreachable("redirected", response.status_code)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise Unreachable("too_large", response.status_code)
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise Unreachable("too_large", response.status_code)
                if time.monotonic() > deadline:
                    raise Unreachable("timeout", response.status_code)
            return response.status_code, bytes(data)
    except httpx.TimeoutException:
        raise Unreachable("timeout") from None
    except httpx.HTTPError:
        raise Unreachable("unreachable") from None
