"""Admin page of partner archives: which archives' stories are shown here, whether they are
confirmed, what went wrong last; adding one (after confirming what it says of itself), letting
one follow our withdrawal notices, asking for a harvest, removing one.

The work is ``nuevonorte.partners.registry``'s; this module only asks and shows. Nothing a
partner says is logged, and its keys are never shown.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from nuevonorte.curate.auth import actor, admin_required
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.models import JobKind, Partner
from nuevonorte.partners import address, client, registry, shown
from nuevonorte.partners.messages import problem_text
from nuevonorte.safe_input import NumberTooLarge, number
from nuevonorte.search import sync


class PartnerAddressForm(FlaskForm):
    """The public address of an archive whose stories are to be shown here."""

    url = StringField(_l("Its public address"), validators=[DataRequired(), Length(max=250)])


class FollowerForm(FlaskForm):
    """The public address of an archive that harvests this one and wants our withdrawal notices."""

    follower_url = StringField(
        _l("The public address of the archive that harvests this one"),
        validators=[DataRequired(), Length(max=250)],
    )


class ConfirmPartnerForm(FlaskForm):
    """What the admin saw of an archive and confirms (asked again when confirmed)."""

    url = HiddenField(validators=[DataRequired(), Length(max=250)])
    name = HiddenField(validators=[Length(max=200)])
    protocol = HiddenField(validators=[Length(max=16)])


class PartnerForm(FlaskForm):
    """A button about one partner (its id)."""

    partner = HiddenField()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def status_text(partner: Partner) -> str:
    """Whether its stories are shown here now, and if not why."""
    if not partner.harvested:
        if partner.key_out:
            return str(_("Follows our withdrawal notices only (its stories are not shown here)"))
        return str(_("May follow our withdrawal notices; it has not asked for them yet"))
    if shown.partner_is_fresh(partner):
        return str(_("Shown"))
    if partner.confirmed_at is None:
        return str(_("Hidden: not confirmed yet (waiting for a harvest that reads it to the end)"))
    return str(_("Hidden: not confirmed since %(time)s UTC", time=_when(partner.confirmed_at)))


def notices_text(partner: Partner) -> str:
    """Whether withdrawal notices go both ways (never the keys themselves)."""
    if partner.subscribed and partner.key_out:
        return str(_("Both ways"))
    if partner.subscribed:
        return str(_("From it only: it does not follow ours"))
    if partner.key_out:
        return str(_("To it only: we do not receive its notices"))
    return str(_("None yet"))


def kind_text(protocol: str) -> str:
    return str(_("Nuevo Norte archive") if protocol == "nuevonorte" else _("OAI-PMH repository"))


def _render_page(
    add_form: PartnerAddressForm | None = None,
    follower_form: FollowerForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    counts = registry.story_counts()
    rows = [
        {
            "partner": p,
            "status": status_text(p),
            "stories": counts.get(p.id, 0),
            "confirmed": _when(p.confirmed_at) or _("never"),
            "attempted": _when(p.last_attempt_at) or _("never"),
            "notices": notices_text(p),
            "problem": problem_text(p.last_error),
        }
        for p in registry.all_partners()
    ]
    page = render_template(
        "curate/partners.html",
        rows=rows,
        add_form=add_form or PartnerAddressForm(formdata=None),
        follower_form=follower_form or FollowerForm(formdata=None),
        action_form=PartnerForm(formdata=None),
        error=error,
    )
    return page, status


def _render_confirm(identity: registry.Identity, notice: str | None = None) -> str:
    known = db.session.scalar(select(Partner).where(Partner.url == identity.url))
    form = ConfirmPartnerForm(formdata=None, url=identity.url, name=identity.name, protocol=identity.protocol)
    return render_template(
        "curate/partner_confirm.html",
        identity=identity,
        kind=kind_text(identity.protocol),
        known=known,
        confirm_form=form,
        confirm_hours=max(1, round(int(current_app.config["PARTNER_CONFIRM_SECONDS"]) / 3600)),
        notice=notice,
    )


def _identify(url: str) -> registry.Identity | str:
    """What the archive at ``url`` says of itself, or the sentence saying why it cannot be read.
    No transaction is held while the other archive is asked (on SQLite a POST's transaction holds
    the write lock: a narrator's withdrawal must not wait on another city's server)."""
    db.session.rollback()
    try:
        return registry.identify(url)
    except address.BadAddress as bad:
        return problem_text(bad.code)
    except client.Unreachable as unreachable:
        return str(_("Nothing was added. %(problem)s", problem=problem_text(unreachable.code)))


def _partner_from(raw: str | None) -> Partner:
    try:
        partner_id = number(raw)
    except NumberTooLarge:
        partner_id = None
    partner = db.session.get(Partner, partner_id) if partner_id is not None else None
    if partner is None:
        abort(404)
    return partner


@bp.get("/admin/partners")
@admin_required
def partners_page() -> tuple[str, int]:
    """Every partner archive with its state, and the forms to add one or let one follow us."""
    return _render_page()


@bp.post("/admin/partners/identify")
@admin_required
def partner_identify() -> str | tuple[str, int]:
    """Ask the archive at the address who it is, and show it for confirmation (nothing kept yet)."""
    form = PartnerAddressForm()
    if not form.validate_on_submit():
        return _render_page(add_form=form, error=_("Give the archive's public address."), status=400)
    found = _identify(form.url.data or "")
    if isinstance(found, str):
        return _render_page(add_form=form, error=found, status=422)
    return _render_confirm(found)


@bp.post("/admin/partners/add")
@admin_required
def partner_add() -> Response | str | tuple[str, int]:
    """Keep the confirmed archive and ask for its first harvest. It is asked again who it is: what
    is kept is what it says, never what the form carries; if that changed, it is shown again."""
    form = ConfirmPartnerForm()
    if not form.validate_on_submit():
        abort(400)
    found = _identify(form.url.data or "")
    if isinstance(found, str):
        return _render_page(error=found, status=422)
    if (found.url, found.name, found.protocol) != (form.url.data, form.name.data, form.protocol.data):
        return _render_confirm(found, _("The archive's answer changed since you looked. Check it again."))
    partner = registry.add(found, actor())
    db.session.commit()
    flash(
        _(
            "%(name)s was added. Its first harvest is waiting in the background jobs; its stories "
            "appear here once it has run.",
            name=partner.name,
        ),
        "notice",
    )
    return redirect(url_for("curate.partners_page"))


@bp.post("/admin/partners/allow")
@admin_required
def partner_allow() -> Response | tuple[str, int]:
    """Let an archive that harvests this one subscribe to our withdrawal notices."""
    form = FollowerForm()
    if not form.validate_on_submit():
        return _render_page(follower_form=form, error=_("Give the archive's public address."), status=400)
    try:
        partner = registry.allow(form.follower_url.data or "", actor())
    except address.BadAddress as bad:
        return _render_page(follower_form=form, error=problem_text(bad.code), status=422)
    db.session.commit()
    flash(
        _(
            "%(url)s may now follow this archive's withdrawal notices: it can ask for them the next "
            "time it harvests this archive.",
            url=partner.url,
        ),
        "notice",
    )
    return redirect(url_for("curate.partners_page"))


@bp.post("/admin/partners/harvest")
@admin_required
def partner_harvest() -> Response:
    """Ask for a harvest of a partner now (the waiting one, if one is already asked for)."""
    form = PartnerForm()
    if not form.validate_on_submit():
        abort(400)
    partner = _partner_from(form.partner.data)
    if not partner.harvested:
        flash(
            _("The stories of %(name)s are not shown here, so it is not harvested.", name=partner.name),
            "notice",
        )
        return redirect(url_for("curate.partners_page"))
    records.request_partner_job(db.session(), JobKind.PARTNER_HARVEST, partner.id)
    db.session.commit()
    flash(_("A harvest of %(name)s is waiting in the background jobs.", name=partner.name), "notice")
    return redirect(url_for("curate.partners_page"))


@bp.get("/admin/partners/remove")
@admin_required
def partner_remove_confirm() -> str:
    """What removing a partner does, before it is done."""
    partner = _partner_from(request.args.get("partner"))
    return render_template(
        "curate/partner_remove.html",
        partner=partner,
        stories=registry.story_counts().get(partner.id, 0),
        action_form=PartnerForm(formdata=None, partner=str(partner.id)),
    )


@bp.post("/admin/partners/remove")
@admin_required
def partner_remove() -> Response:
    """Forget a partner and every story of it; the public index follows after the commit."""
    form = PartnerForm()
    if not form.validate_on_submit():
        abort(400)
    partner = _partner_from(form.partner.data)
    name = partner.name
    gone = registry.remove(partner, actor())
    db.session.commit()
    sync.follow_now()
    flash(
        ngettext(
            "%(name)s was removed, with its %(num)d story.",
            "%(name)s was removed, with its %(num)d stories.",
            len(gone),
            name=name,
        ),
        "notice",
    )
    return redirect(url_for("curate.partners_page"))
