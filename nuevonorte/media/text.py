"""Turning lazy messages into text, also outside a request (the CLI, the demo loader)."""

from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_babel import LazyString, force_locale


def localized(message: LazyString) -> str:
    """The message in the active language; outside a request, in the default language."""
    babel_state = g.get("_flask_babel")
    if has_request_context() or getattr(babel_state, "babel_locale", None) is not None:
        return str(message)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(message)
