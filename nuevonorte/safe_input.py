"""What a request may carry: no NUL character anywhere, no number past what a page or row can be.

PostgreSQL cannot store or even compare text holding a NUL (U+0000), and no column holds a
number past its integer type; either used to end in a 500 (docs/security.md A23). The rule
lives here, once, for every route, form and API:

- A NUL in the path or the query is refused before any view runs (``BadInput``: 400, a page in
  the visitor's language, JSON under ``/api/``). A NUL in a form is refused when the form is
  read, which is after ``nuevonorte.uploads.tolerate_truncation`` and the rate limits had their
  turn; views that must give the person their text back are marked ``keeps_text``: there the
  NULs are taken out of the form instead, ``nul_removed()`` says so, and the view shows the form
  again with ``NUL_REMOVED``.
- ``number`` reads a whole number written in a URL or a form, ``page_number`` the ``page`` of a
  listing, and the ``<int:...>`` converter of every route stops at ``MAX_ID``: a page or a row
  past those limits cannot exist (404); another number past its limit is bad input (400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask import Request as FlaskRequest
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter, Map

NUL = "\x00"
#: The largest row id: PostgreSQL's ``integer``, the type of every id column.
MAX_ID = 2**31 - 1
#: No listing has more pages than this (the review queue and the audit trail page by 20 to 100).
MAX_PAGE = 100_000

NUL_REMOVED = _l(
    "Your text held an invisible character (a null byte, sometimes left by copying from another"
    " program) that the archive cannot keep. We took it out and changed nothing else; nothing was"
    " saved yet. Read your story once more and send it again."
)

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(BadRequest):
    """A request the archive refuses to read; ``heading`` and ``text`` say why to a person."""

    heading = _l("Something in the request was not right")
    text = _l("Please go back and try again.")


class NulCharacter(BadInput):
    """A NUL character in the address or a form."""

    text = _l(
        "What you sent holds an invisible character (a null byte, sometimes left by copying from"
        " another program) that the archive cannot read. Nothing was saved. Go back, take it out or"
        " type that part again, and send it once more."
    )


class NumberTooLarge(BadInput):
    """A number larger than anything in the archive can be."""

    text = _l(
        "A number in the address or the form is too large for anything in the archive. Nothing was saved."
    )


def has_nul(values: MultiDict[str, Any]) -> bool:
    """Whether any key or text value of ``values`` holds a NUL."""
    return any(
        NUL in key or (isinstance(value, str) and NUL in value) for key, value in values.items(multi=True)
    )


def without_nul(values: MultiDict[str, Any]) -> MultiDict[str, Any]:
    """``values`` with every NUL taken out of keys and text values."""
    return MultiDict(
        (key.replace(NUL, ""), value.replace(NUL, "") if isinstance(value, str) else value)
        for key, value in values.items(multi=True)
    )


def keeps_text(view: F) -> F:
    """Mark a view that shows its form again rather than lose what the person typed: a NUL in its
    form is taken out (the view asks ``nul_removed()`` and says so) instead of refused."""
    view.keeps_text = True  # type: ignore[attr-defined]
    return view


def nul_removed() -> bool:
    """Whether NULs were taken out of this request's form (only in ``keeps_text`` views)."""
    return bool(getattr(request, "nul_removed", False))


class Request(FlaskRequest):
    """Flask's request, whose form holds no NUL: refused, or taken out for ``keeps_text`` views."""

    nul_removed = False

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__["form"]
        if not has_nul(form):
            return
        view = current_app.view_functions.get(self.endpoint or "")
        if getattr(view, "keeps_text", False):
            self.__dict__["form"] = without_nul(form)
            self.nul_removed = True
            return
        # Nothing of a refused form stays within reach of later code (error pages, logs).
        self.__dict__["form"] = self.parameter_storage_class()
        raise NulCharacter()


def refuse_nul() -> None:
    """Before any view: a NUL in the path or the query (names or values) is bad input."""
    if NUL in request.path or has_nul(request.args):
        raise NulCharacter()


def number(raw: str | None, limit: int = MAX_ID) -> int | None:
    """``raw`` as a whole number from 0 to ``limit``; None when missing or not written in ASCII
    digits (``int()`` also reads "²" as a digit, and no more than 4300 of them); a larger one
    raises ``NumberTooLarge``."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise NumberTooLarge()
    return int(digits)


def page_number() -> int:
    """The ``page`` query argument: 1 when missing or not a number; past ``MAX_PAGE`` no listing
    has it (404). Each listing decides what a page past its own end shows."""
    try:
        found = number(request.args.get("page"), MAX_PAGE)
    except NumberTooLarge:
        raise NotFound() from None
    return found or 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a row id, ASCII digits up to ``MAX_ID``; no row has a larger
    one, so the route does not match (404)."""

    regex = r"[0-9]+"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the rule; call before any blueprint is registered (routes bind their converters)."""
    app.request_class = Request
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
