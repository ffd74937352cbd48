"""The curate blueprint; each noun's views live in their own module and attach to ``bp``."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

bp = Blueprint("curate", __name__, url_prefix="/curate")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    # render_markdown for curator previews comes from public.presentation (rich_text.py).
    from nuevonorte.curate import auth

    auth.login_manager.init_app(state.app)
