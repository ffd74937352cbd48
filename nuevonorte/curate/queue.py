"""The review queue at volume: counts, filters, sorting, an excerpt per row, and one action on
many stories with a result for each (a story changed meanwhile is skipped, the others proceed)."""

from __future__ import annotations

from dataclasses import replace

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from nuevonorte import consent, curation, stories
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import BulkForm
from nuevonorte.curate.paging import page_of, page_of_ids
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale
from nuevonorte.models import CuratorAccount, Place, Story, Theme
from nuevonorte.queue import BadFilter, Filters, by_title, counts, excerpt, load, query

#: Stories per page of the review queue.
QUEUE_PAGE = 50
#: The most stories one bulk action takes (a page holds 50).
MAX_PICKS = 200


def _curators() -> list[CuratorAccount]:
    return list(
        db.session.scalars(
            select(CuratorAccount).where(CuratorAccount.is_active.is_(True)).order_by(CuratorAccount.email)
        )
    )


def bulk_form() -> BulkForm:
    """The bulk form with this archive's themes, places and curators to choose from."""
    lang = current_locale()
    form = BulkForm()
    form.theme.choices = [
        SelectChoice(t.id, t.name(lang)) for t in db.session.scalars(select(Theme).order_by(Theme.slug))
    ]
    form.place.choices = [
        SelectChoice(p.id, p.name(lang)) for p in db.session.scalars(select(Place).order_by(Place.slug))
    ]
    form.curator.choices = [SelectChoice(0, _("Nobody")), *(SelectChoice(c.id, c.email) for c in _curators())]
    return form


@bp.get("/")
@curator_required
def queue() -> tuple[str, int]:
    """Stories to review, filtered and sorted as asked, with counts per status."""
    filters = Filters.read(request.args)
    lang = current_locale()
    error, status = "", 200
    try:
        q = query(filters, actor().id, lang)
    except BadFilter:
        error, status = (
            _("Write the dates as YYYY-MM-DD, for example 2026-11-30. The list below ignores them."),
            400,
        )
        q = query(replace(filters, since="", until=""), actor().id, lang)
    if filters.sort == "title":
        found = page_of_ids(by_title(q, lang), QUEUE_PAGE, load)
    else:
        found = page_of(q, QUEUE_PAGE)
    page = render_template(
        "curate/queue.html",
        stories=found.rows,
        excerpts={s.id: excerpt(s) for s in found.rows if consent.curators_may_read(s)},
        themes=db.session.scalars(select(Theme).order_by(Theme.slug)).all(),
        places=db.session.scalars(select(Place).order_by(Place.slug)).all(),
        curators=_curators(),
        filters=filters,
        counts=counts(),
        page=found,
        link_args=filters.link_args(),
        bulk=bulk_form(),
        error=error,
    )
    return page, status


@bp.post("/bulk")
@curator_required
def bulk() -> tuple[str, int]:
    """Apply one action to each ticked story in its own transaction, and say what became of each."""
    form = bulk_form()
    picks = [p for p in (curation.Pick.parse(raw) for raw in request.form.getlist("pick")) if p is not None]
    lang = current_locale()
    problem = ""
    if not form.validate_on_submit():
        problem = _("Please check the form.")
    elif not picks:
        problem = _("Tick at least one story in the list first.")
    elif len(picks) > MAX_PICKS:
        problem = _("At most %(n)d stories at a time.", n=MAX_PICKS)
    change = None if problem else _change(form)
    if change is None:
        problem = problem or _("Choose what to add or who to give the stories to.")
        if form.action.data == "return" and not (form.message.data or "").strip():
            problem = _("Write the message the narrators will read before returning their stories.")
        return render_template("curate/bulk.html", results=[], problem=problem), 400
    results = curation.apply_to_each(picks, change, consent.curators_may_read, lang)
    done = any(r.outcome == curation.Outcome.DONE for r in results)
    return render_template("curate/bulk.html", results=results, problem=""), 200 if done else 409


def _change(form: BulkForm) -> curation.Change | None:
    """The change the form asks for, or None when a value it needs is missing."""
    curator = actor()
    action = form.action.data
    if action == "add-theme":
        theme = db.session.get(Theme, form.theme.data or 0)
        return curation.add_theme(theme) if theme is not None else None
    if action == "add-place":
        place = db.session.get(Place, form.place.data or 0)
        return curation.add_place(place) if place is not None else None
    if action == "assign":
        to = db.session.get(CuratorAccount, form.curator.data) if form.curator.data else None
        if form.curator.data and (to is None or not to.is_active):
            return None
        return lambda story: curation.assign(story, to, curator)
    if action == "publish":
        return lambda story: stories.publish(story, curator)
    if action == "keep-private":
        return lambda story: stories.keep_private(story, curator)
    if action == "return":
        message = (form.message.data or "").strip()
        if not message:
            return None

        def give_back(story: Story) -> None:
            curation.tell_narrator(story, message, curator)
            stories.keep_private(story, curator)

        return give_back
    return None
