"""Curatorial Markdown rendered to safe HTML: no raw HTML, no images, no script links."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

# "js-default" follows CommonMark with raw HTML off; links with javascript:, vbscript:, file:
# and data: (except images) are refused by markdown-it's validateLink. Images are disabled
# too: an image URL in curatorial text would make visitors' browsers fetch from elsewhere (M20).
_MD = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False}).disable("image")


def render_markdown(text: str) -> Markup:
    """Render curator-written Markdown to HTML that is safe to insert in a page."""
    return Markup(_MD.render(text or ""))  # noqa: S704 - markdown-it escapes everything; HTML is off


def plain_text(text: str) -> str:
    """The words of curator-written Markdown without its marks, on one line: for cards, the
    description a shared link shows (og:description) and anywhere HTML cannot go."""
    words: list[str] = []
    for token in _MD.parse(text or ""):
        if token.type == "inline":
            words.extend(_words(child) for child in token.children or ())
        elif token.type in ("code_block", "fence"):
            words.append(token.content)
        words.append(" ")
    return " ".join("".join(words).split())


def _words(token: Token) -> str:
    # Links, emphasis and headings are marks around text tokens; a line break is a space.
    if token.type in ("text", "code_inline"):
        return token.content
    return " " if token.type in ("softbreak", "hardbreak") else ""
