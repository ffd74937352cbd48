"""The forms of a page, read from its HTML as a browser would submit them (stdlib parser only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """One ``<form>``: where it goes, how, and what a browser would send if submitted as it is."""

    method: str
    action: str | None
    multipart: bool
    #: (name, value) pairs a browser sends: text, hidden, checked boxes, selected options.
    sent: list[tuple[str, str]] = field(default_factory=list)
    #: Every named field a person can fill in or tick, whether it is sent as it is or not.
    names: list[str] = field(default_factory=list)
    #: Names of file inputs (sent empty).
    files: list[str] = field(default_factory=list)

    def add_name(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: list[str] | None = None
        self._select: dict[str, str | None] | None = None
        self._button_sent = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = Form(
                method=(a.get("method") or "get").lower(),
                action=a.get("action"),
                multipart=a.get("enctype") == "multipart/form-data",
            )
            self._button_sent = False
            return
        form, name = self._form, a.get("name")
        if form is None or not name:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                form.files.append(name)
            elif kind in ("checkbox", "radio"):
                form.add_name(name)
                if "checked" in a:
                    form.sent.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "reset", "image"):
                form.add_name(name)
                form.sent.append((name, a.get("value") or ""))
        elif tag == "button" and (a.get("type") or "submit") == "submit" and not self._button_sent:
            form.add_name(name)  # the first button is the one pressed
            form.sent.append((name, a.get("value") or ""))
            self._button_sent = True
        elif tag == "textarea":
            self._textarea = [name, ""]
        elif tag == "select":
            self._select = {"name": name, "selected": None, "first": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["selected"] = value

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        if tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            form.add_name(name)
            form.sent.append((name, text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name = self._select["name"] or ""
            value = (
                self._select["selected"] if self._select["selected"] is not None else self._select["first"]
            )
            form.add_name(name)
            if value is not None:
                form.sent.append((name, value))
            self._select = None
        elif tag == "form":
            self.forms.append(form)
            self._form = None


def forms(html: str) -> list[Form]:
    """Every form of ``html``, in page order."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms
