"""Forms of the contribution flow and of "my stories"; labels are translated lazily."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from nuevonorte.consent import CONSENT_TEXT_VERSION, ConsentChoices
from nuevonorte.models import PERMISSION_WORDS, PERMISSIONS, Credit, Visibility
from nuevonorte.models.base import today

MAX_BODY = 100_000

VISIBILITY_CHOICES = [
    SelectChoice(
        Visibility.PUBLIC.value,
        _l("Anyone, after a curator of the workshop has read it (on the internet, search engines too)"),
    ),
    SelectChoice(Visibility.CURATORS.value, _l("Only the workshop's curators")),
    SelectChoice(Visibility.CONTRIBUTOR.value, _l("Nobody but me, for now")),
]
CREDIT_CHOICES = [
    SelectChoice(Credit.PSEUDONYM.value, _l("A pseudonym (a name I make up)")),
    SelectChoice(Credit.NAME.value, _l("My name, as I write it")),
    SelectChoice(Credit.ANONYMOUS.value, _l("No name at all (anonymous)")),
]
LANGUAGE_CHOICES = [
    SelectChoice("es", _l("Spanish")),
    SelectChoice("en", _l("English")),
    SelectChoice("und", _l("Another language")),
]


class CheckboxListField(SelectMultipleField):
    """Several choices shown as checkboxes, which work well on phones."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ConsentFields:
    """The consent choices, shared by the contribution form and the change-consent form."""

    # Nothing preselected: the person chooses (a default would choose for them).
    visibility = RadioField(
        _l("Who may see your story?"),
        choices=VISIBILITY_CHOICES,
        validators=[InputRequired(message=_l("Choose who may see your story."))],
    )
    credit = RadioField(
        _l("How should we credit you?"), choices=CREDIT_CHOICES, default=Credit.PSEUDONYM.value
    )
    credit_name = StringField(_l("The name or pseudonym to show"), validators=[Length(max=120)])
    # One checkbox per yes/no choice (``PERMISSIONS``) is added below the class.
    embargo_until = DateField(_l("Nothing public before this date (optional)"), validators=[Optional()])

    def validate_credit_name(self, field: Any) -> None:
        """A name or pseudonym credit needs the name itself."""
        if self.credit.data != Credit.ANONYMOUS.value and not (field.data or "").strip():
            raise ValidationError(_l("Write the name or pseudonym you want, or choose anonymous."))

    def validate_embargo_until(self, field: Any) -> None:
        """An embargo date lies in the future."""
        if field.data is not None and field.data <= today():
            raise ValidationError(_l("Choose a date after today, or leave it empty."))

    def choices(self) -> ConsentChoices:
        """The validated consent choices."""
        anonymous = self.credit.data == Credit.ANONYMOUS.value
        return ConsentChoices(
            visibility=Visibility(self.visibility.data),
            credit=Credit(self.credit.data),
            credit_name="" if anonymous else (self.credit_name.data or "").strip(),
            **{name: bool(getattr(self, name).data) for name in PERMISSIONS},
            embargo_until=self.embargo_until.data,
        )


# The yes/no choices, each asked as its declaration says, checked as the safe default has it.
for _name, _words in PERMISSION_WORDS.items():
    setattr(ConsentFields, _name, BooleanField(_words.ask, default=ConsentChoices().allows(_name)))

#: The names of the consent choices.
CONSENT_FIELDS = tuple(name for name, value in vars(ConsentFields).items() if isinstance(value, UnboundField))


class ContributionForm(ConsentFields, FlaskForm):
    """A story, its files and its consent, in one form that works without JavaScript.

    Text fields come first so that they arrive before the files: an upload cut off halfway
    still brings back what the person typed (see ``nuevonorte.uploads``).
    """

    title = StringField(_l("A title for your story"), validators=[Optional(), Length(max=300)])
    body = TextAreaField(_l("Your story, in your own words"), validators=[Optional(), Length(max=MAX_BODY)])
    language = RadioField(_l("In which language do you tell it?"), choices=LANGUAGE_CHOICES, default="es")
    themes = CheckboxListField(_l("What is it about? (optional)"), coerce=int, validate_choice=True)
    places = CheckboxListField(_l("Where did it happen? (optional)"), coerce=int, validate_choice=True)
    # No default: a form without the version never counts as consent to the current text.
    consent_version = HiddenField()
    # The form's token: a second POST of the same form makes no second story (submissions.py).
    submission = HiddenField()
    # Only shown when someone is signed in on this device (a shared phone): whose story is it?
    whose = RadioField(
        _l("Whose story is this?"),
        choices=[
            SelectChoice(
                "new", _l("Mine, with a new receipt code (the person signed in here is signed out)")
            ),
            SelectChoice("add", _l("Add it to the stories of the receipt code signed in on this device")),
        ],
        default="new",
        validate_choice=False,
    )
    agree = BooleanField(
        _l("I have read this and I agree"),
        validators=[
            DataRequired(message=_l("Please read the text above and tick the box to send your story."))
        ],
    )
    audio = MultipleFileField(_l("Or send recordings you already have"))
    photos = MultipleFileField(_l("Photos (optional)"))

    def validate_consent_version(self, field: Any) -> None:
        """The person saw the consent text in force (C01: a tampered version is refused)."""
        if not field.data:
            raise ValidationError(
                _l("We could not tell which consent text you read. Please read it again before sending.")
            )
        if field.data != CONSENT_TEXT_VERSION:
            raise ValidationError(_l("The consent text has changed. Please read it again before sending."))


class ConsentForm(ConsentFields, FlaskForm):
    """Changing the consent of a story already sent (narrowing or widening)."""


class ReceiptForm(FlaskForm):
    """Signing in to "my stories" with a receipt code."""

    code = StringField(
        _l("Your receipt code"),
        validators=[InputRequired(message=_l("Write your receipt code.")), Length(max=400)],
    )


class ConfirmForm(FlaskForm):
    """A withdrawal: one form, one press, with a box that makes sure it is meant."""

    confirm = BooleanField(
        _l("Yes, delete it for good"),
        validators=[DataRequired(message=_l("Tick the box to confirm. Nothing was deleted."))],
    )


class PlainForm(FlaskForm):
    """A form with nothing but its CSRF token (forget me on this device)."""
