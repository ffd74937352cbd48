"""Admin pages: staff accounts, the theme and place vocabularies, and the audit trail."""

from __future__ import annotations

import re
from typing import cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from nuevonorte import audit, staff, vocabulary
from nuevonorte.accounts import AccountError, create_curator
from nuevonorte.curate.auth import actor, admin_required
from nuevonorte.curate.forms import AccountForm, ActionForm, VocabularyForm
from nuevonorte.curate.paging import page_of
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale
from nuevonorte.models import AuditEvent, CuratorAccount, Place, PlaceLevel, Role, Theme
from nuevonorte.safe_input import number
from nuevonorte.vocabulary import slugify

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
#: Events per page of the audit trail.
AUDIT_PAGE = 100


def _account(account_id: int) -> CuratorAccount:
    found = db.session.get(CuratorAccount, account_id)
    if found is None:
        abort(404)
    return found


def _render_accounts(
    form: AccountForm | None = None, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    accounts = db.session.scalars(select(CuratorAccount).order_by(CuratorAccount.email)).all()
    page = render_template(
        "curate/accounts.html",
        accounts=accounts,
        form=form or AccountForm(formdata=None),
        action_form=ActionForm(formdata=None),
        error=error,
    )
    return page, status


@bp.get("/admin/accounts")
@admin_required
def accounts() -> tuple[str, int]:
    """Every staff account, and a form to add one."""
    return _render_accounts()


@bp.post("/admin/accounts")
@admin_required
def create_account() -> Response | tuple[str, int]:
    """Create a curator or admin account (password length checked before hashing)."""
    form = AccountForm()
    if not form.validate_on_submit():
        return _render_accounts(form, _("Please check the form."), 400)
    try:
        create_curator(form.email.data or "", form.password.data or "", Role(form.role.data), by=actor())
        db.session.commit()
    except AccountError as e:
        db.session.rollback()
        return _render_accounts(form, e.message, 422)
    flash(_("Account created."), "notice")
    return redirect(url_for("curate.accounts"))


@bp.post("/admin/accounts/<int:account_id>/<action>")
@admin_required
def account_action(account_id: int, action: str) -> Response | tuple[str, int]:
    """Disable, enable, change role or set a new password; each ends the account's sessions."""
    account = _account(account_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if account.id == actor().id and action in ("disable", "role"):
        return _render_accounts(error=_("You cannot disable or demote your own account."), status=409)
    try:
        if action == "disable":
            staff.set_active(account, False, actor())
        elif action == "enable":
            staff.set_active(account, True, actor())
        elif action == "role" and request.form.get("role") in set(Role):
            staff.set_role(account, Role(request.form["role"]), actor())
        elif action == "password":
            staff.set_password(account, request.form.get("password", ""), actor())
        else:
            abort(404)
        db.session.commit()
    except AccountError as e:
        db.session.rollback()
        return _render_accounts(error=e.message, status=422)
    flash(_("Account updated."), "notice")
    return redirect(url_for("curate.accounts"))


def _render_vocab(
    form: VocabularyForm | None = None, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    themes = db.session.scalars(select(Theme).order_by(Theme.slug)).all()
    places = db.session.scalars(select(Place).order_by(Place.slug)).all()
    page = render_template(
        "curate/vocabularies.html",
        themes=themes,
        places=places,
        form=form or VocabularyForm(formdata=None),
        error=error,
        lang=current_locale(),
    )
    return page, status


@bp.get("/admin/vocabularies")
@admin_required
def vocabularies() -> tuple[str, int]:
    """Themes and places, with forms to add and rename them."""
    return _render_vocab()


@bp.post("/admin/vocabularies/<kind>")
@admin_required
def save_term(kind: str) -> Response | tuple[str, int]:
    """Add a theme or place, or rename one (same short id)."""
    if kind not in ("theme", "place"):
        abort(404)
    form = VocabularyForm()
    if not form.validate_on_submit() or not SLUG.match(form.slug.data or ""):
        return _render_vocab(
            form, _("Please check the form: the short id uses lowercase letters, digits and dashes."), 400
        )
    model: type[Theme] | type[Place] = Theme if kind == "theme" else Place
    term = cast("Theme | Place | None", db.session.scalar(select(model).where(model.slug == form.slug.data)))
    slug_en = (form.slug_en.data or "").strip() or (
        term.slug_en if term is not None else _free_english_slug(model, form)
    )
    if not SLUG.match(slug_en):
        return _render_vocab(
            form, _("Please check the form: the short id uses lowercase letters, digits and dashes."), 400
        )
    for wanted in dict.fromkeys((form.slug.data, slug_en)):
        clash = vocabulary.taken_by(model, wanted, term)
        if clash is not None:
            message = _(
                "The short id “%(slug)s” already leads to “%(other)s”. Please choose another.",
                slug=wanted,
                other=clash.name(current_locale()),
            )
            return _render_vocab(form, message, 400)
    if term is None:
        if kind == "place" and (
            len(form.country_code.data or "") != 2 or form.level.data not in set(PlaceLevel)
        ):
            return _render_vocab(form, _("A place needs a two-letter country code and a level."), 400)
        term = (
            Theme(slug=form.slug.data)
            if kind == "theme"
            else Place(
                slug=form.slug.data,
                country_code=(form.country_code.data or "").upper(),
                level=PlaceLevel(form.level.data),
            )
        )
        db.session.add(term)
    term.slug_en = slug_en
    term.name_es, term.name_en = (form.name_es.data or "").strip(), (form.name_en.data or "").strip()
    db.session.flush()
    audit.record(f"{kind}.saved", kind, str(term.id), actor=actor())
    db.session.commit()
    flash(_("Saved."), "notice")
    return redirect(url_for("curate.vocabularies"))


def _free_english_slug(model: type[Theme] | type[Place], form: VocabularyForm) -> str:
    """A new term's English short id when none was typed: from its English name, unless that
    already leads to another term (two places called "San Jose"); then its Spanish one."""
    derived = slugify(form.name_en.data or "")
    if derived and vocabulary.taken_by(model, derived, None) is None:
        return derived
    return form.slug.data or ""


@bp.get("/admin/audit")
@admin_required
def audit_trail() -> str:
    """The audit trail, newest first, filterable by person and by object."""
    query = select(AuditEvent)
    person = request.args.get("person", "")
    object_id = request.args.get("object", "").strip()[:32]
    person_id = number(person)  # past any account id: 400 (A23)
    if person_id is not None:
        query = query.where(AuditEvent.actor_id == person_id)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    events = page_of(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), AUDIT_PAGE)
    people = db.session.scalars(select(CuratorAccount).order_by(CuratorAccount.email)).all()
    filters = {name: value for name, value in (("person", person), ("object", object_id)) if value}
    return render_template(
        "curate/audit.html",
        events=events.rows,
        page=events,
        filters=filters,
        people=people,
        person=person,
        object_id=object_id,
    )
