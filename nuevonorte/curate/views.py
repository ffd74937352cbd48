"""The curate blueprint; each noun's views live in their own module and attach to ``bp``."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

bp = Blueprint("curate", __name__, url_prefix="/curate")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = state.app
    from nuevonorte.markdown import render_markdown

    auth.login_manager.init_app(app)
    app.jinja_env.globals.setdefault("render_markdown", render_markdown)


# Importing the modules registers their routes on ``bp``.
from nuevonorte.curate import (  # noqa: E402, F401
    admin,
    auth,
    collections,
    describe,
    review,
    transcripts,
)
