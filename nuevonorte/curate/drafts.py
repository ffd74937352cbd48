"""A draft kept after an expired session (``nuevonorte.drafts``): offered on its form's page,
discarded from there."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from nuevonorte import drafts as domain
from nuevonorte.curate.auth import actor, curator_required, safe_next
from nuevonorte.curate.forms import DraftForm
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.models import CuratorDraft


def waiting() -> CuratorDraft | None:
    """The draft the signed-in person kept for this page (a GET of a drafted form's page)."""
    page = domain.page_of(request)
    return domain.waiting(actor().id, page) if page is not None else None


def fields(draft: CuratorDraft | None) -> MultiDict[str, str] | None:
    """The draft's fields to fill the form with, or None to fill it from the story."""
    return domain.formdata(draft) if draft is not None else None


def template_values(draft: CuratorDraft | None) -> dict[str, Any]:
    """What ``curate/_draft.html`` shows: the draft, and the form that discards it."""
    if draft is None:
        return {"draft": None}
    return {"draft": draft, "draft_form": DraftForm(formdata=None), "draft_page": draft.page}


def saved() -> None:
    """The form of this page was saved: its draft, if any, is done (the caller commits)."""
    page = domain.page_of(request)
    if page is not None:
        domain.discard(actor().id, page)


@bp.post("/drafts/discard")
@curator_required
def discard_draft() -> Response:
    """Forget the signed-in person's draft of a page, and show that page as saved."""
    form = DraftForm()
    page = safe_next(form.page.data, url_for("curate.queue")) if form.validate_on_submit() else None
    if page is None:
        return redirect(url_for("curate.queue"))
    domain.discard(actor().id, page)
    db.session.commit()
    flash(_("The kept changes were discarded."), "notice")
    return redirect(page)
