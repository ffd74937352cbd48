"""A curator or admin changes their own password (admins set others' on the accounts page)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from nuevonorte import staff
from nuevonorte.accounts import AccountError
from nuevonorte.curate.auth import THROTTLED, actor, curator_required, forget_browser_session
from nuevonorte.curate.forms import OwnPasswordForm
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db


def _render(form: OwnPasswordForm, error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("curate/password.html", form=form, error=error), status


@bp.route("/account/password", methods=["GET", "POST"])
@curator_required
def own_password() -> Response | tuple[str, int]:
    """Change one's own password; every session of the account ends, this one too."""
    form = OwnPasswordForm()
    if not form.validate_on_submit():
        return _render(form, None, 400 if form.is_submitted() else 200)
    try:
        outcome = staff.change_own_password(actor(), form.current.data or "", form.new.data or "")
    except AccountError as e:
        db.session.rollback()
        return _render(form, e.message, 422)
    db.session.commit()  # a failed attempt is counted, as at sign-in
    if outcome == staff.SignIn.THROTTLED:
        return _render(form, str(THROTTLED), 429)
    if outcome == staff.SignIn.FAILED:
        return _render(form, _("That is not your current password. Nothing was changed."), 422)
    forget_browser_session()
    flash(_("Your password was changed and all your sessions have ended. Sign in with the new password."))
    return redirect(url_for("curate.sign_in"))
