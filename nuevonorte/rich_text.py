"""Curatorial Markdown rendered to safe HTML: no raw HTML, no images, no script links."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

# "js-default" follows CommonMark with raw HTML off; links with javascript:, vbscript:, file:
# and data: (except images) are refused by markdown-it's validateLink. Images are disabled
# too: an image URL in curatorial text would make visitors' browsers fetch from elsewhere (M20).
_MD = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False}).disable("image")


def render_markdown(text: str) -> Markup:
    """Render curator-written Markdown to HTML that is safe to insert in a page."""
    return Markup(_MD.render(text or ""))  # noqa: S704 - markdown-it escapes everything; HTML is off
