"""Collections in the workspace: edit, pick stories, entries, order, cover, preview, publish."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, refresh
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from nuevonorte import collections as domain
from nuevonorte import consent
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import ActionForm, CollectionForm, EntryForm, OrderForm, PickForm
from nuevonorte.curate.picker import pick
from nuevonorte.curate.views import bp
from nuevonorte.curate.wording import gap_label
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale, is_locale
from nuevonorte.models import Collection, CollectionEntry, MediaFile, PartnerStory, Story, StoryStatus
from nuevonorte.safe_input import page_number


def _get(collection_id: str) -> Collection:
    found = db.session.scalar(select(Collection).where(Collection.public_id == collection_id))
    if found is None:
        abort(404)
    return found


def _entry(collection: Collection, entry_id: int) -> CollectionEntry:
    found = next((e for e in collection.entries if e.id == entry_id), None)
    if found is None:
        abort(404)
    return found


def _render(
    collection: Collection,
    form: CollectionForm | None = None,
    error: str | None = None,
    status: int = 200,
    q: str = "",
    page: int = 1,
    ticked: frozenset[str] = frozenset(),
) -> tuple[str, int]:
    if form is None:
        form = CollectionForm(formdata=None, obj=collection)
        form.revision.data = str(collection.revision)
    order_form = OrderForm(formdata=None)
    order_form.revision.data = str(collection.revision)
    page_html = render_template(
        "curate/collection.html",
        collection=collection,
        form=form,
        entry_form=EntryForm(formdata=None),
        action_form=ActionForm(formdata=None),
        order_form=order_form,
        pick_form=PickForm(formdata=None),
        picker=pick(collection, q, page),
        ticked=ticked,
        candidates=domain.cover_candidates(collection),
        gaps=[gap_label(c) for c in domain.completeness(collection)],
        error=error,
        lang=current_locale(),
    )
    return page_html, status


def _checked() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.get("/collections")
@curator_required
def collections() -> str:
    """Every collection, drafts first."""
    found = db.session.scalars(select(Collection).order_by(Collection.status, Collection.id.desc())).all()
    return render_template(
        "curate/collections.html",
        collections=found,
        action_form=ActionForm(formdata=None),
        lang=current_locale(),
    )


@bp.post("/collections")
@curator_required
def create_collection() -> Response:
    """Start a new draft collection."""
    _checked()
    collection = domain.create(actor())
    db.session.commit()
    return redirect(url_for("curate.collection", collection_id=collection.public_id))


@bp.get("/collections/<collection_id>")
@curator_required
def collection(collection_id: str) -> tuple[str, int]:
    """The collection editor with its completeness panel and, after a search, the story picker."""
    q = request.args.get("q", "")
    return _render(_get(collection_id), q=q, page=page_number() if q else 1)


@bp.post("/collections/<collection_id>")
@curator_required
def save_collection(collection_id: str) -> Response | tuple[str, int]:
    """Save title and introduction unless someone else saved first."""
    collection = _get(collection_id)
    form = CollectionForm()
    if not form.validate_on_submit():
        return _render(collection, form, _("Please check the form."), 400)
    if form.revision.data != str(collection.revision):
        form.revision.data = str(collection.revision)
        return _render(
            collection,
            form,
            _(
                "Someone else saved this collection while you were editing. Your text is kept below; save again to replace theirs."  # noqa: E501
            ),
            409,
        )
    try:
        domain.update_text(
            collection,
            actor(),
            title_es=form.title_es.data or "",
            title_en=form.title_en.data or "",
            intro_es=form.intro_es.data or "",
            intro_en=form.intro_en.data or "",
        )
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return _render(
            _get(collection_id),
            form,
            _(
                "Someone else saved this collection while you were editing. Your text is kept below; save again to replace theirs."  # noqa: E501
            ),
            409,
        )
    flash(_("Collection saved."), "notice")
    return redirect(url_for("curate.collection", collection_id=collection_id))


def _stories(ids: list[str]) -> list[Story]:
    """The stories of ``ids``, in that order; refused when one does not exist, or when its
    narrator keeps it to themselves (curators may not even read it: the review page is a 403)."""
    found = {s.public_id: s for s in db.session.scalars(select(Story).where(Story.public_id.in_(ids)))}
    if set(ids) - set(found):
        raise domain.CollectionRefused(domain.STORY_UNAVAILABLE)
    if any(s.status != StoryStatus.WITHDRAWN and not consent.curators_may_read(s) for s in found.values()):
        raise domain.CollectionRefused(domain.STORY_SEALED)
    return [found[i] for i in ids]


def _partner_story(public_id: str) -> PartnerStory | None:
    """A partner archive's story by its id here (the end of its page's address, /from/<id>)."""
    return db.session.scalar(select(PartnerStory).where(PartnerStory.public_id == public_id[:40]))


@bp.post("/collections/<collection_id>/entries")
@curator_required
def add_entry(collection_id: str) -> Response | tuple[str, int]:
    """Append a story (by id, with an optional note) or a block of text."""
    collection = _get(collection_id)
    form = EntryForm()
    if not form.validate_on_submit():
        return _render(collection, error=_("Please check the form."), status=400)
    try:
        story_id = (form.story_id.data or "").strip().rstrip("/").rsplit("/", 1)[-1]
        partner_story = _partner_story(story_id) if story_id else None
        if partner_story is not None:
            note = (form.text_es.data or "", form.text_en.data or "")
            domain.add_partner_story(collection, partner_story, actor(), *note)
        elif story_id:
            (story,) = _stories([story_id])
            domain.add_story(collection, story, actor(), form.text_es.data or "", form.text_en.data or "")
        elif form.text_es.data or form.text_en.data:
            domain.add_text(collection, actor(), form.text_es.data or "", form.text_en.data or "")
        else:
            return _render(collection, error=_("Give a story id, or write some text."), status=400)
        db.session.commit()
    except domain.CollectionRefused as refused:
        db.session.rollback()
        return _render(_get(collection_id), error=refused.message, status=409)
    return redirect(url_for("curate.collection", collection_id=collection_id))


@bp.post("/collections/<collection_id>/stories")
@curator_required
def add_stories(collection_id: str) -> Response | tuple[str, int]:
    """Append the stories ticked in the picker, in the order shown: all of them or none."""
    collection = _get(collection_id)
    form = PickForm()
    q = (form.q.data or "")[:200]
    if not form.validate_on_submit():
        problems = form.story.errors or [_("Please check the form.")]
        return _render(collection, error=str(problems[0]), status=400, q=q)
    ids: list[str] = form.story.data or []
    try:
        domain.add_stories(collection, _stories(ids), actor())
        db.session.commit()
    except (domain.CollectionRefused, StaleDataError) as refused:
        db.session.rollback()
        reason = refused.message if isinstance(refused, domain.CollectionRefused) else _("Please try again.")
        error = _("Nothing was added. %(reason)s", reason=reason)
        return _render(_get(collection_id), error=error, status=409, q=q, ticked=frozenset(ids))
    flash(ngettext("%(num)d story added.", "%(num)d stories added.", len(ids)), "notice")
    return redirect(url_for("curate.collection", collection_id=collection_id, q=q or None, _anchor="order"))


@bp.post("/collections/<collection_id>/order")
@curator_required
def reorder(collection_id: str) -> Response | tuple[str, int]:
    """Save the whole order of the entries at once, unless the collection changed meanwhile."""
    collection = _get(collection_id)
    form = OrderForm()
    if not form.validate_on_submit():
        return _render(collection, error=_("Please check the form."), status=400)
    positions = form.places(request.form, len(collection.entries))
    try:
        if positions is None:
            raise domain.CollectionRefused(domain.bad_order(collection))
        domain.reorder(collection, positions, form.revision_number(), actor())
        db.session.commit()
    except (domain.StaleOrder, StaleDataError):
        db.session.rollback()
        return _render(_get(collection_id), error=str(domain.STALE_ORDER), status=409)
    except domain.CollectionRefused as refused:
        db.session.rollback()
        return _render(_get(collection_id), error=refused.message, status=400)
    flash(_("Order saved."), "notice")
    return redirect(url_for("curate.collection", collection_id=collection_id, _anchor="order"))


@bp.post("/collections/<collection_id>/entries/<int:entry_id>/<action>")
@curator_required
def entry_action(collection_id: str, entry_id: int, action: str) -> Response:
    """Move an entry up or down, edit its text, or remove it."""
    collection = _get(collection_id)
    entry = _entry(collection, entry_id)
    _checked()
    if action == "up":
        domain.move(entry, -1, actor())
    elif action == "down":
        domain.move(entry, 1, actor())
    elif action == "remove":
        domain.remove(entry, actor())
    elif action == "edit":
        domain.edit_entry(
            entry, actor(), request.form.get("text_es", "")[:20000], request.form.get("text_en", "")[:20000]
        )
    else:
        abort(404)
    db.session.commit()
    return redirect(url_for("curate.collection", collection_id=collection_id))


@bp.post("/collections/<collection_id>/cover")
@curator_required
def set_cover(collection_id: str) -> Response | tuple[str, int]:
    """Choose the cover among the public photos of the collection's stories."""
    collection = _get(collection_id)
    _checked()
    media_id = request.form.get("media", "")
    media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == media_id)) if media_id else None
    try:
        domain.set_cover(collection, media, actor())
        db.session.commit()
    except domain.CollectionRefused as refused:
        db.session.rollback()
        return _render(_get(collection_id), error=refused.message, status=409)
    return redirect(url_for("curate.collection", collection_id=collection_id))


@bp.post("/collections/<collection_id>/<action>")
@curator_required
def publish_collection(collection_id: str, action: str) -> Response:
    """Publish or unpublish a collection."""
    collection = _get(collection_id)
    _checked()
    if action == "publish":
        domain.publish(collection, actor())
    elif action == "unpublish":
        domain.unpublish(collection, actor())
    else:
        abort(404)
    db.session.commit()
    flash(_("Collection published.") if action == "publish" else _("Collection unpublished."), "notice")
    return redirect(url_for("curate.collection", collection_id=collection_id))


@bp.get("/collections/<collection_id>/preview/<lang>")
@curator_required
def preview(collection_id: str, lang: str) -> str:
    """The collection exactly as the public will see it: the public template, in ``lang``."""
    if not is_locale(lang):
        abort(404)
    g.lang = lang
    refresh()
    return render_template("public/collection.html", collection=_get(collection_id))
