"""Flask-WTF forms of the curators' workspace (CSRF on every one)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from nuevonorte.accounts import MAX_EMAIL_LENGTH
from nuevonorte.models import PERMISSION_WORDS, Role, Visibility
from nuevonorte.safe_input import NumberTooLarge, number


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignInForm(FlaskForm):
    """Email and password. No max length here: the domain refuses over-long passwords."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class OwnPasswordForm(FlaskForm):
    """The person's current password and the new one, twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password (at least 12 characters)"), validators=[DataRequired()])
    again = PasswordField(
        _l("New password, once more"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords are not the same."))],
    )


class LanguageForm(FlaskForm):
    """The interface language choice."""

    lang = HiddenField()
    next = HiddenField()


class DraftForm(FlaskForm):
    """Discard the draft kept for a page (its address)."""

    page = HiddenField(validators=[DataRequired(), Length(max=300)])


class ActionForm(FlaskForm):
    """A button that changes state; carries the revision the page was loaded at."""

    revision = HiddenField()


class DescribeForm(FlaskForm):
    """A story's bilingual description."""

    revision = HiddenField()
    title_es = StringField(_l("Title in Spanish"), validators=[Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=300)])
    summary_es = TextAreaField(_l("Summary in Spanish"), validators=[Length(max=5000)])
    summary_en = TextAreaField(_l("Summary in English"), validators=[Length(max=5000)])
    themes = MultiCheckboxField(_l("Themes"), coerce=int, validate_choice=True)
    places = MultiCheckboxField(_l("Places"), coerce=int, validate_choice=True)
    period_start = IntegerField(_l("From year"), validators=[Optional(), NumberRange(1800, 2100)])
    period_end = IntegerField(_l("To year"), validators=[Optional(), NumberRange(1800, 2100)])
    warnings = MultiCheckboxField(_l("Content warnings"), validate_choice=True)

    def validate_period_end(self, field: IntegerField) -> None:
        """The period cannot end before it starts."""
        if (
            field.data is not None
            and self.period_start.data is not None
            and field.data < self.period_start.data
        ):
            raise ValidationError(str(_l("The period cannot end before it starts.")))


class ConsentNarrowForm(FlaskForm):
    """A curator narrowing consent; the domain refuses anything wider (C10)."""

    visibility = SelectField(
        _l("Who may see it"),
        choices=[
            SelectChoice(Visibility.PUBLIC.value, _l("Public")),
            SelectChoice(Visibility.CURATORS.value, _l("Curators only")),
            SelectChoice(Visibility.CONTRIBUTOR.value, _l("Only the narrator")),
        ],
    )
    anonymous = BooleanField(_l("Credit as anonymous"))
    # One checkbox per yes/no choice (``PERMISSIONS``) is added below the class.
    embargo_until = StringField(_l("Embargoed until (YYYY-MM-DD)"), validators=[Length(max=10)])


for _name, _words in PERMISSION_WORDS.items():
    setattr(ConsentNarrowForm, _name, BooleanField(_words.curator))


class TranscriptUploadForm(FlaskForm):
    """A WebVTT, SRT or plain-text transcript file."""

    file = FileField(_l("Transcript file (WebVTT, SRT or plain text)"), validators=[FileRequired()])
    language = SelectField(
        _l("Language of the transcript"),
        choices=[SelectChoice("es", "Español"), SelectChoice("en", "English")],
    )


class CollectionForm(FlaskForm):
    """A collection's bilingual title and introduction."""

    revision = HiddenField()
    title_es = StringField(_l("Title in Spanish"), validators=[Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=300)])
    intro_es = TextAreaField(_l("Introduction in Spanish"), validators=[Length(max=20000)])
    intro_en = TextAreaField(_l("Introduction in English"), validators=[Length(max=20000)])


class EntryForm(FlaskForm):
    """A new entry: a story (by its id) with an optional note, or a block of Markdown text."""

    story_id = StringField(_l("Story id, or the address of its page"), validators=[Length(max=300)])
    text_es = TextAreaField(_l("Text or note in Spanish (Markdown)"), validators=[Length(max=20000)])
    text_en = TextAreaField(_l("Text or note in English (Markdown)"), validators=[Length(max=20000)])


class ImportForm(FlaskForm):
    """An event to import (admins): a zip file, checked first or imported."""

    file = FileField(
        _l("The event: a zip file with the sheet (.csv) and the files it names"), validators=[FileRequired()]
    )
    skip_bad_rows = BooleanField(_l("Import only the rows without problems (each row whole or not at all)"))
    check = SubmitField(_l("Check first"))
    start = SubmitField(_l("Import"))


class AccountForm(FlaskForm):
    """A new staff account."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.CURATOR.value, _l("Curator")),
            SelectChoice(Role.ADMIN.value, _l("Administrator")),
            SelectChoice(Role.TRANSLATOR.value, _l("Translator (translations only)")),
        ],
    )


class VocabularyForm(FlaskForm):
    """A theme or place with its names in both languages."""

    slug = StringField(_l("Short id (letters, digits, dashes)"), validators=[DataRequired(), Length(max=80)])
    slug_en = StringField(
        _l("Short id in English addresses (left empty: made from the English name, or kept)"),
        validators=[Length(max=80)],
    )
    name_es = StringField(_l("Name in Spanish"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=120)])
    country_code = StringField(_l("Country code (places only)"), validators=[Length(max=2)])
    level = SelectField(
        _l("Level (places only)"),
        choices=[
            SelectChoice("country", _l("Country")),
            SelectChoice("state", _l("State")),
            SelectChoice("city", _l("City")),
        ],
        validate_choice=False,
    )


class ReviewActionForm(FlaskForm):
    """The review page's actions, with the message the narrator reads in "my stories"."""

    revision = HiddenField()
    message = TextAreaField(
        _l("Message to the narrator (optional; they read it in “My stories”)"), validators=[Length(max=1000)]
    )


class NoteForm(FlaskForm):
    """An internal note for the other curators."""

    body = TextAreaField(
        _l("Note for curators (never shown to the narrator or the public)"),
        validators=[DataRequired(), Length(max=4000)],
    )


class AssignForm(FlaskForm):
    """Who looks after a story."""

    revision = HiddenField()
    curator = SelectField(_l("Looked after by"), coerce=int, validate_choice=True)


class BulkForm(FlaskForm):
    """One action on the stories ticked in the queue."""

    action = SelectField(
        _l("With the selected stories"),
        choices=[
            SelectChoice("add-theme", _l("Add a theme")),
            SelectChoice("add-place", _l("Add a place")),
            SelectChoice("assign", _l("Give to a curator")),
            SelectChoice("publish", _l("Publish")),
            SelectChoice("keep-private", _l("Keep private")),
            SelectChoice("return", _l("Return to the narrator, with a message")),
        ],
    )
    theme = SelectField(_l("Theme"), coerce=int, validate_choice=False)
    place = SelectField(_l("Place"), coerce=int, validate_choice=False)
    curator = SelectField(_l("Curator"), coerce=int, validate_choice=False)
    message = TextAreaField(_l("Message to the narrators"), validators=[Length(max=1000)])


class CorrectionForm(FlaskForm):
    """A correction of the story's text, one text area per paragraph (``c-<n>``); with
    ``as_told`` set, the text as told is shown again."""

    revision = HiddenField()
    as_told = HiddenField()


class TranslationForm(FlaskForm):
    """The body's translation, one text area per paragraph (``p-<n>``), with who made it."""

    revision = HiddenField()
    provenance = SelectField(
        _l("Who made this translation"),
        choices=[
            SelectChoice("community", _l("Community translation")),
            SelectChoice("reviewed", _l("Reviewed translation")),
            SelectChoice("narrator", _l("Translated by the narrator")),
            SelectChoice("machine", _l("Machine draft, not yet reviewed")),
        ],
    )


class PickForm(FlaskForm):
    """Stories ticked in a collection's picker (their public ids), and the search they came from."""

    #: More than a page of the picker (20) or two is a mistake, or an attack.
    MAX_PICKED = 50

    q = HiddenField(validators=[Length(max=200)])
    story = SelectMultipleField(validate_choice=False)

    def validate_story(self, field: SelectMultipleField) -> None:
        """At least one story, and not a huge list."""
        if not field.data:
            raise ValidationError(str(_l("Tick the stories to add.")))
        if len(field.data) > self.MAX_PICKED:
            raise ValidationError(_("At most %(num)d stories can be added at once.", num=self.MAX_PICKED))


class OrderForm(FlaskForm):
    """A collection's whole new order, and the revision the page was loaded at. Each entry's
    place comes in a ``position-<entry id>`` field, read by ``places``."""

    revision = HiddenField()

    def places(self, formdata: MultiDict[str, str], entries: int) -> dict[int, int] | None:
        """The order sent, entry id -> place (1, 2, ...); None when a place is not a whole number,
        an entry comes twice, or there are more places than ``entries`` (a huge form is not read)."""
        sent = [(k, v) for k, v in formdata.items(multi=True) if k.startswith("position-")]
        if len(sent) > entries:
            return None
        found: dict[int, int] = {}
        for name, value in sent:
            try:
                entry_id, place = number(name.removeprefix("position-")), number(value.strip())
            except NumberTooLarge:
                return None
            if entry_id is None or place is None or entry_id in found:
                return None
            found[entry_id] = place
        return found

    def revision_number(self) -> int | None:
        """The revision sent, or None when it is not a number the collection could have."""
        try:
            return number(self.revision.data)
        except NumberTooLarge:
            return None


class SegmentForm(FlaskForm):
    """One part of a recording (an OHMS-style segment): where it starts, and its title,
    keywords and synopsis in both languages."""

    start = StringField(_l("Starts at (0:01:02.500 or 01:02)"), validators=[DataRequired(), Length(max=20)])
    title_es = StringField(_l("Title in Spanish"), validators=[Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=200)])
    keywords_es = StringField(_l("Keywords in Spanish"), validators=[Length(max=500)])
    keywords_en = StringField(_l("Keywords in English"), validators=[Length(max=500)])
    synopsis_es = TextAreaField(_l("Synopsis in Spanish"), validators=[Length(max=4000)])
    synopsis_en = TextAreaField(_l("Synopsis in English"), validators=[Length(max=4000)])

    def validate_title_en(self, field: StringField) -> None:
        """A part needs a title in at least one language."""
        if not (self.title_es.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_("Give the part a title in Spanish or English."))
