"""How to cite a public story: a line in the page's language, BibTeX and CSL-JSON.

A citation holds only what the public story page shows: the title (in the page's language, or
the other one when untranslated), the name the narrator chose to be credited by (nothing when
they chose to be anonymous), the month and year of publication, the story's language and its
public address. Callers build one only for a story ``consent.story_is_public`` allows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _

from nuevonorte import consent
from nuevonorte.models import Story
from nuevonorte.models.base import today
from nuevonorte.public.content import language_code, month_year, shown
from nuevonorte.public.persistent import story_url

#: CSL item type: a story told to the archive is an oral-history interview.
CSL_TYPE = "interview"
BIBTEX_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Characters with a meaning in BibTeX and LaTeX, written so they print as themselves.
_LATEX = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "^": r"\textasciicircum{}",
        "~": r"\textasciitilde{}",
    }
)


@dataclass(frozen=True)
class Citation:
    """What a citation of one public story says."""

    key: str
    title: str
    author: str | None
    published: date | None
    language: str
    url: str
    accessed: date


def for_story(story: Story) -> Citation:
    """The citation of a public story, in the current page's language."""
    assert consent.story_is_public(story), "only a public story is cited"
    title = shown(story.title_es, story.title_en).text or _("Untitled story")
    return Citation(
        key=f"nuevonorte-{story.public_id}",
        title=_one_line(title),
        author=consent.credit_line(story),
        published=story.published_on,
        language=language_code(story.original_language),
        url=story_url(story.public_id),
        accessed=today(),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def plain_text(citation: Citation) -> str:
    """The citation as one line of text in the page's language."""
    values: dict[str, str] = {
        "title": citation.title,
        "date": month_year(citation.published) if citation.published else _("no date"),
        "url": citation.url,
        "accessed": str(format_date(citation.accessed, format="long")),
    }
    if citation.author is None:
        return str(
            _(
                "“%(title)s”, a story told anonymously to the Nuevo Norte archive (%(date)s), %(url)s,"
                " accessed %(accessed)s.",
                **values,
            )
        )
    return str(
        _(
            "%(author)s, “%(title)s”, a story told to the Nuevo Norte archive (%(date)s), %(url)s,"
            " accessed %(accessed)s.",
            author=_one_line(citation.author),
            **values,
        )
    )


def _latex(text: str) -> str:
    return _one_line(text).translate(_LATEX)


def bibtex(citation: Citation) -> str:
    """The citation as a BibTeX ``@misc`` entry (UTF-8; names and titles kept as written)."""
    fields: list[tuple[str, str]] = []  # (name, value as written after "=")
    if citation.author is not None:
        # Double braces: a chosen name or pseudonym is one name, never split into given/family.
        fields.append(("author", "{{" + _latex(citation.author) + "}}"))
    fields.append(("title", "{{" + _latex(citation.title) + "}}"))
    if citation.published is not None:
        fields.append(("year", "{" + str(citation.published.year) + "}"))
        fields.append(("month", BIBTEX_MONTHS[citation.published.month - 1]))  # BibTeX's macro
    fields.append(("howpublished", "{" + _latex(_("Nuevo Norte archive")) + "}"))
    # Braces and backslashes cannot end the field: in an address they are percent-encoded.
    url = citation.url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")
    fields.append(("url", "{" + url + "}"))
    fields.append(("urldate", "{" + citation.accessed.isoformat() + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@misc{{{citation.key},\n{body}\n}}\n"


def csl_item(citation: Citation) -> dict[str, Any]:
    """The citation as a CSL-JSON item (Citation Style Language input data)."""
    item: dict[str, Any] = {"id": citation.key, "type": CSL_TYPE, "title": citation.title}
    if citation.author is not None:
        item["author"] = [{"literal": _one_line(citation.author)}]
    if citation.published is not None:
        item["issued"] = {"date-parts": [[citation.published.year, citation.published.month]]}
    item["accessed"] = {
        "date-parts": [[citation.accessed.year, citation.accessed.month, citation.accessed.day]]
    }
    item["archive"] = _("Nuevo Norte archive")
    item["language"] = citation.language
    item["URL"] = citation.url
    return item


def csl_json(citation: Citation) -> str:
    """A CSL-JSON document (an array of one item), as text."""
    return json.dumps([csl_item(citation)], ensure_ascii=False, indent=2) + "\n"
