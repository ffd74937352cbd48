"""Importing an event from the admin screen: a zip file, checked first, then imported; the
narrators' receipt codes are shown on the result page, once (``nuevonorte.importer``)."""

from __future__ import annotations

import time

from flask import current_app, render_template
from flask_babel import LazyString, force_locale

from nuevonorte.consent import CONSENT_TEXT_VERSION
from nuevonorte.curate.auth import actor, admin_required
from nuevonorte.curate.forms import ImportForm
from nuevonorte.curate.views import bp
from nuevonorte.importer import EventImport, EventZip, Outcome, report

#: Rows stop starting after this long, before gunicorn's worker timeout (300 s,
#: ``gunicorn_config``) would end the request mid-row; sending the same file again imports the rest.
TIME_BUDGET_SECONDS = 200
#: The result page holds receipt codes: no copy anywhere, not even the browser's history.
NO_STORE = {"Cache-Control": "no-store"}


def _render(
    form: ImportForm, outcome: Outcome | None = None, *, refused_whole: bool = False, status: int = 200
) -> tuple[str, int, dict[str, str]]:
    page = render_template(
        "curate/import.html",
        form=form,
        outcome=outcome,
        refused_whole=refused_whole,
        summary=report.summary(outcome) if outcome else "",
        status_words=report.STATUS,
        nothing_imported=report.NOTHING_IMPORTED,
        receipts_warning=in_both_languages(report.RECEIPTS_WARNING),
        version=CONSENT_TEXT_VERSION,
    )
    return page, status, NO_STORE


def in_both_languages(message: LazyString) -> list[tuple[str, str]]:
    """The message in Spanish and in English, whatever the page's language: for what a narrator
    standing next to the curator must understand too."""
    both = []
    for lang in ("es", "en"):
        with force_locale(lang):
            both.append((lang, str(message)))
    return both


@bp.get("/admin/import")
@admin_required
def import_page() -> tuple[str, int, dict[str, str]]:
    """The form to check or import an event."""
    return _render(ImportForm(formdata=None))


@bp.post("/admin/import")
@admin_required
def import_event() -> tuple[str, int, dict[str, str]]:
    """Check (write nothing) or import the uploaded event; every row's result, and the codes."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _render(form, status=400)
    account = actor()  # before the import ends the request's transaction
    source = EventZip(form.file.data.stream, current_app.config["MAX_CONTENT_LENGTH"])
    try:
        event = EventImport(
            source, dry_run=not form.start.data, skip_bad_rows=bool(form.skip_bad_rows.data), actor=account
        )
        outcome = event.run(deadline=time.monotonic() + TIME_BUDGET_SECONDS)
    finally:
        source.close()
    status = 200 if outcome.complete else 422
    return _render(ImportForm(formdata=None), outcome, refused_whole=event.refused_whole, status=status)
