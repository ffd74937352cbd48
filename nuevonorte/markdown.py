"""Curatorial Markdown rendered safely: raw HTML is disabled and unsafe links are dropped."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

# "js-default" is CommonMark with raw HTML off and markdown-it's link validation, which
# refuses javascript:, vbscript:, file: and data: (except images) URLs.
_md = MarkdownIt("js-default", {"typographer": False}).disable("image")


def render_markdown(text: str) -> Markup:
    """HTML for Markdown ``text``; any HTML in it is shown as text, never interpreted."""
    return Markup(_md.render(text or ""))  # noqa: S704 (markdown-it escapes: html is off)
