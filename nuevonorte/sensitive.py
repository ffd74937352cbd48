"""The sensitive-passage assistant: passages of a story that may endanger its narrator.

Before a curator publishes, every passage the public would read (the body's paragraphs, each
transcript cue and its translation) is scanned with the rules below: how and where a border was
crossed, smugglers, earlier removals, arrests and convictions, names of relatives or employers,
street addresses, phone numbers and exact dates, in Spanish and English. Each rule is a few
regular expressions that run here, on this machine, and carries the sentence a curator reads
to know why it fired. The curator withholds the passage or dismisses the flag; until each flag
of a passage the public would see is decided, ``stories.publish`` refuses (decision 0015).

A dismissal is kept as a keyed hash of the story, the passage, the rule and the words that
fired it (never the words): it lapses when those words change, and goes with a withdrawal.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from nuevonorte.extensions import db
from nuevonorte.models import Cue, CuratorAccount, MediaKind, SensitiveDismissal, Story

#: Passage kinds: a paragraph of the body (ref: its index), a cue's text or its translation
#: (ref: the cue's id; withholding either withholds the cue).
PARAGRAPH, CUE, CUE_TRANSLATION = "paragraph", "cue", "cue-translation"
#: The kinds of passage that belong to a transcript cue.
CUE_KINDS = (CUE, CUE_TRANSLATION)
PARAGRAPH_TRANSLATION = "paragraph-translation"  # ref: the paragraph's position


def fold(text: str) -> str:
    """Lower-case, accent-free ``text`` of the same length, so a match's offsets are the
    original's ("Crucé" -> "cruce")."""
    out = []
    for ch in text:
        low = ch.lower()
        if len(low) != 1:
            low = ch
        base = unicodedata.normalize("NFD", low)[0]
        out.append(base if base.isascii() else low)
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    """One kind of danger: its code, why it fires (shown to curators), and its patterns.

    ``folded`` patterns run on the lower-case, accent-free text; ``cased`` ones on the text as
    written (a name is a capital letter)."""

    code: str
    why: object  # a lazy gettext string
    folded: tuple[re.Pattern[str], ...] = ()
    cased: tuple[re.Pattern[str], ...] = ()


def _f(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


# A few words between two parts of a pattern ("cruzamos por fin el río").
_GAP = r"\W+(?:\w+\W+){0,5}?"
_BORDER_PLACES = (
    r"tijuana|nogales|sasabe|altar|reynosa|matamoros|nuevo laredo|piedras negras|ciudad juarez|"
    r"juarez|agua prieta|mexicali|tecate|ojinaga|acuna|el paso|laredo|brownsville|mcallen|"
    r"calexico|san ysidro|douglas|naco|eagle pass|del rio|hidalgo|arizona|texas"
)
_MONTHS_ES = (
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    r"diciembre"
)
_MONTHS_EN = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_KIN = (
    r"papa|papá|mama|mamá|padre|madre|hermano|hermana|hijo|hija|esposo|esposa|marido|mujer|"
    r"tío|tio|tía|tia|primo|prima|abuelo|abuela|cuñado|cuñada|sobrino|sobrina|suegro|suegra|"
    r"novio|novia|compadre|comadre|jefe|jefa|patrón|patron|patrona|"
    r"father|mother|dad|mom|mum|brother|sister|son|daughter|husband|wife|uncle|aunt|cousin|"
    r"grandfather|grandmother|grandma|grandpa|nephew|niece|boyfriend|girlfriend|partner|"
    r"boss|employer|foreman|godfather|godmother|friend|amigo|amiga|compa|vecino|vecina|neighbor|"
    r"neighbour|roommate"
)
_NAME = r"[A-ZÁÉÍÓÚÑ][a-záéíóúñü]+(?:\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñü]+){0,2}"
_STREET_ES = r"calle|avenida|av\.|calzada|callejon|privada|andador|boulevard|blvd\.?|carretera|cerrada"
_STREET_EN = (
    r"street|st\.|avenue|ave\.?|road|rd\.|boulevard|blvd\.?|drive|dr\.|lane|ln\.|court|ct\.|way|"
    r"place|pl\."
)

RULES: tuple[Rule, ...] = (
    Rule(
        "crossing",
        _l(
            "Tells how or where a border was crossed: a route can identify the narrator and those who travelled with them."  # noqa: E501
        ),
        folded=_f(
            rf"\b(?:cruz\w*|cruc\w*|brinc\w*|salt\w*|nad\w*|pas(?:e|amos|aron|o)|escond\w*|met(?:ieron|imos))"
            rf"{_GAP}(?:el rio|rio bravo|rio grande|el muro|la barda|el cerco|la linea|la frontera|"
            rf"el desierto|la garita|la cajuela|un trailer|el trailer|la caja|un tunel|el tunel|"
            rf"el alambrado|el cerro|el monte|{_BORDER_PLACES})\b",
            rf"\b(?:cross\w*|jump\w*|swam|swim\w*|climb\w*|snuck|sneak\w*|hid|hiding|walk\w*)"
            rf"{_GAP}(?:the river|rio grande|the wall|the fence|the border|the desert|the line|"
            rf"the checkpoint|a trunk|the trunk|a trailer|the trailer|a tunnel|the tunnel|"
            rf"{_BORDER_PLACES})\b",
            r"\bpor el (?:desierto|rio|cerro|monte) de\b",
            r"\ben la cajuela\b|\bin the trunk\b",
            r"\b(?:in|into|en) (?:the back of|la parte de atras de|la caja de) (?:a|an|the|un|una|el|la) "
            r"(?:truck|trailer|van|pickup|camion|camioneta)\b",
            r"\b(?:drove|took|walked|brought|snuck|got) us (?:through|across|over|past)\b",
            r"\bnos (?:cruzaron|pasaron|brincaron|metieron) (?:por|en|a)\b",
        ),
    ),
    Rule(
        "smuggler",
        _l(
            "Mentions smugglers (coyote, pollero) or paying to be taken across: it can expose the narrator and others to prosecution or reprisal."  # noqa: E501
        ),
        folded=_f(
            r"\b(?:coyotes?|polleros?|pateros?|pasador(?:es)?|traficantes?|smugglers?|human smuggl\w*|"
            r"traffickers?)\b",
            rf"\b(?:pag\w+|cobr\w+){_GAP}(?:pesos|dolares|mil){_GAP}(?:cruzar|pasar(?:nos|me)?|llevar(?:nos|me)?)\b",
            rf"\bpaid{_GAP}(?:dollars|pesos|thousand){_GAP}(?:to cross|to take|to bring|to get)\b",
        ),
    ),
    Rule(
        "removal",
        _l(
            "Tells of an earlier deportation, removal order or return: an immigration record can be matched to it."  # noqa: E501
        ),
        folded=_f(
            r"\b(?:me|nos|lo|la|los|las|le|les) (?:deport|expuls)(?:aron|o|aran|an|ar|e|amos|ara)\b",
            r"\bfu(?:i|imos|e|eron|iste) (?:deportad|expulsad)[oa]s?\b",
            r"\b(?:orden(?:es)?) de (?:deportacion|expulsion|remocion|salida)\b",
            r"\bdeportad[oa]s? (?:dos|tres|cuatro|varias|muchas|otra|\d+) (?:veces|vez)\b",
            r"\b(?:reingres\w+|volvi(?:mos)? a (?:entrar|cruzar|pasar))\b",
            r"\b(?:i|we|he|she|they|was|were|got|been) (?:deported|removed)\b",
            r"\bdeported (?:me|us|him|her|them|twice|again|three times|\d+ times)\b",
            r"\b(?:removal|deportation|expedited removal) (?:order|proceedings?)\b",
            r"\bre-?ent(?:ered|ry|ering)\b|\bvoluntary departure\b|\bcame back (?:in )?again\b",
            r"\bsalida voluntaria\b",
        ),
    ),
    Rule(
        "record",
        _l(
            "Mentions an arrest, detention, prison or a conviction: it can be matched to court and police records."  # noqa: E501
        ),
        folded=_f(
            r"\b(?:antecedentes(?: penales)?|carcel|prision|pres[oa]s?|encarcelad\w+|sentenciad\w+|"
            r"condenad\w+|delitos?|felonia|centro de detencion|reclusorio|penal de)\b",
            r"\b(?:me|nos|lo|la|los|las|le|les) (?:arrest\w+|detuv\w+|encerr\w+|agarr\w+ presos?|"
            r"condenaron|sentenciaron|procesaron|encarcelaron|fich\w+)\b",
            r"\b(?:fui|fuimos|estuve|estuvimos) (?:arrestad|detenid|encerrad)[oa]s?\b",
            r"\b(?:jail|prison|convicted|conviction|felony|misdemeanou?r|criminal record|arrested|"
            r"sentenced|served time|dui|detention center|locked up|probation|parole)\b",
            r"\b(?:was|were|got|been) (?:detained|booked|charged)\b",
        ),
    ),
    Rule(
        "names",
        _l(
            "Names a relative, an employer or another person: they can be found, or harmed, through the story."  # noqa: E501
        ),
        cased=_f(
            rf"\b(?i:mi|mis|my|our|nuestr[oa]s?|su|sus|his|her|their|el|la|the)\s+(?i:{_KIN})\s*,?\s+(?-i:{_NAME})",
            rf"\b(?i:don|doña|señor|señora|sr\.|sra\.|mr\.?|mrs\.?|ms\.?)\s+(?-i:{_NAME})",
            rf"\b(?i:se llama|se llamaba|se llaman|named|called|llamad[oa])\s+(?-i:{_NAME})",
            rf"\b(?i:{_KIN})\s+(?i:was|is|era|es|fue)\s+(?-i:{_NAME})",
            rf"\b(?-i:{_NAME})\s+(?:Landscaping|Roofing|Construction|Cleaning|Services|Painting|Farms?|"
            rf"Ranch|Restaurant|Construcciones|Limpieza|Inc\.?|LLC|Co\.)",
            rf"\b(?i:trabaj\w+|worked|working|work)\s+(?i:para|con|for|with)\s+(?:(?i:el|la|los|the)\s+)?(?-i:{_NAME})",
        ),
    ),
    Rule(
        "address",
        _l("Gives a street address: it points to a home or a workplace."),
        folded=_f(
            rf"\b(?:{_STREET_ES})\s+[\w .]{{1,40}}?\s*(?:#|no\.?|num\.?|numero)?\s*\d+[a-z]?\b",
            r"\b(?:c\.?\s?p\.?|codigo postal|zip(?: code)?)\s*:?\s*\d{5}\b",
            r"\b(?:interior|int\.|depto\.?|departamento|apt\.?|apartment|suite|unit)\s*#?\s*\d+\w*\b",
        ),
        cased=_f(
            r"\b(?i:colonia|col\.)\s+(?:[A-ZÁÉÍÓÚÑ0-9][\w.]*)",
            rf"\b\d{{1,6}}\s+(?:[A-Z0-9][\w.]*\s+){{1,4}}(?i:{_STREET_EN})(?!\w)",
        ),
    ),
    Rule(
        "phone",
        _l("Holds a phone number: it reaches the narrator or someone close to them."),
        folded=_f(
            r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(?\d{1,4}\)?[\s.-]?){1,4}\d{2,4}(?!\w)",
            r"\(\d{2,3}\)[\s.-]?\d{3,4}[\s.-]?\d{4}(?!\d)",
            r"(?<![\w.-])\d{2,4}[\s.-]\d{3,4}[\s.-]\d{4}(?![\w-])",
            r"(?<!\d)\d{10,13}(?!\d)",
            r"\b(?:tel|telefono|cel|celular|whatsapp|numero|phone|number|call me at|text me at)"
            r"\W+\d[\d\s.-]{5,}\d",
        ),
    ),
    Rule(
        "date",
        _l("Gives an exact date: with it, a crossing, an arrest or a removal can be found in records."),
        folded=_f(
            rf"\b\d{{1,2}}\s+de\s+(?:{_MONTHS_ES})(?:\s+(?:de|del)\s+\d{{4}})?\b",
            r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b",
            rf"\b(?:{_MONTHS_EN})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?",
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS_EN})\b(?:,?\s+\d{{4}})?",
        ),
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}


@dataclass(frozen=True)
class Passage:
    """Something of a story the public would read, and how to withhold it."""

    kind: str
    ref: str
    text: str
    #: Where a cue begins in its recording (None for a paragraph).
    start_ms: int | None = None


@dataclass(frozen=True)
class Flag:
    """One rule firing on one passage."""

    passage: Passage
    rule: Rule
    start: int
    end: int
    fingerprint: str

    @property
    def words(self) -> str:
        return self.passage.text[self.start : self.end]

    def excerpt(self, around: int = 90) -> tuple[str, str, str]:
        """The words that fired the rule with some text either side: (before, words, after)."""
        text = self.passage.text
        before = text[max(0, self.start - around) : self.start]
        after = text[self.end : self.end + around]
        if self.start > around:
            before = "…" + before.split(" ", 1)[-1]
        if len(text) - self.end > around:
            after = after.rsplit(" ", 1)[0] + "…"
        return before, self.words, after


def find(text: str) -> Iterator[tuple[Rule, int, int]]:
    """Every rule that fires on ``text``, with where (one span per rule and place)."""
    folded = fold(text)
    for rule in RULES:
        spans: list[tuple[int, int]] = []
        for pattern in rule.folded:
            spans += [m.span() for m in pattern.finditer(folded)]
        for pattern in rule.cased:
            spans += [m.span() for m in pattern.finditer(text)]
        taken: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if taken and start < taken[-1][1]:  # overlapping matches of one rule: one flag
                taken[-1] = (taken[-1][0], max(end, taken[-1][1]))
            else:
                taken.append((start, end))
        for start, end in taken:
            yield rule, start, end


def passages(story: Story) -> list[Passage]:
    """What the public would read of ``story`` and is not withheld yet."""
    from nuevonorte import consent, translations, withheld_words

    # As the public reads them: withheld words are markers already (``withheld_words``).
    public = consent.public_paragraphs(story)
    found = [Passage(PARAGRAPH, str(i), text) for i, text in enumerate(public) if text is not None]
    # A translation says what its paragraph says: withholding it withholds the paragraph.
    words = withheld_words.of(story)
    for i, t in sorted(translations.for_staff(story).items()):
        text = withheld_words.public_translation(i, t.text, words) if i < len(public) and public[i] else None
        if text is not None:
            found.append(Passage(PARAGRAPH_TRANSLATION, str(i), text))
    for media in story.media:
        if media.kind != MediaKind.AUDIO or media.transcript is None:
            continue
        # Withheld words are markers here too; a machine draft is read as it will be once
        # reviewed, so that its flags are decided before it can be (``transcripts.mark_reviewed``).
        for cue in consent.cues_once_reviewed(media):
            if cue is None:
                continue
            found.append(Passage(CUE, str(cue.id), cue.text, cue.start_ms))
            if cue.translation:
                found.append(Passage(CUE_TRANSLATION, str(cue.id), cue.translation, cue.start_ms))
    return found


def _fingerprint(story: Story, passage: Passage, rule: Rule, words: str) -> str:
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"nuevonorte sensitive flags", hashlib.sha256
    ).digest()
    message = "\x1f".join((story.public_id, passage.kind, passage.ref, rule.code, words))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def flags(story: Story) -> list[Flag]:
    """Every flag on the passages of ``story`` the public would read, dismissed ones included."""
    out = []
    for passage in passages(story):
        for rule, start, end in find(passage.text):
            fingerprint = _fingerprint(story, passage, rule, passage.text[start:end])
            out.append(Flag(passage, rule, start, end, fingerprint))
    return out


def dismissed(story: Story) -> set[str]:
    return set(
        db.session.scalars(
            select(SensitiveDismissal.fingerprint).where(SensitiveDismissal.story_id == story.id)
        )
    )


def undecided(story: Story) -> list[Flag]:
    """The flags no curator has decided yet (withholding a passage removes its flags)."""
    done = dismissed(story)
    return [f for f in flags(story) if f.fingerprint not in done]


def dismiss(story: Story, fingerprint: str, curator: CuratorAccount | None) -> bool:
    """Keep the flagged words public (the curator's choice, audited); False when no undecided
    flag of the story has that fingerprint (it changed, or someone decided it meanwhile)."""
    from nuevonorte import audit

    if fingerprint not in {f.fingerprint for f in undecided(story)}:
        return False
    db.session.add(SensitiveDismissal(story_id=story.id, fingerprint=fingerprint, curator=curator))
    db.session.flush()
    audit.record("sensitive.dismissed", "story", story.public_id, actor=curator)
    return True


def forget(story: Story) -> None:
    """Delete every dismissal of ``story`` (it was withdrawn)."""
    db.session.execute(delete(SensitiveDismissal).where(SensitiveDismissal.story_id == story.id))


def withhold(story: Story, fingerprint: str, curator: CuratorAccount | None) -> Withheld | None:
    """Withhold the passage an undecided flag of ``story`` is on (a paragraph, or a cue with its
    translation); None when no undecided flag has that fingerprint. The caller commits and, for
    a cue, then makes the recording's silenced public copy (``withheld_audio``)."""
    from nuevonorte import description, transcripts

    flag = next((f for f in undecided(story) if f.fingerprint == fingerprint), None)
    if flag is None:
        return None
    if flag.passage.kind in (PARAGRAPH, PARAGRAPH_TRANSLATION):
        description.withhold_paragraph(story, int(flag.passage.ref), curator)
        return Withheld(flag, None)
    cue = _cue(story, flag.passage.ref)
    transcripts.withhold_cue(cue, curator)
    return Withheld(flag, cue.transcript.media.public_id)


def withhold_words(story: Story, fingerprint: str, curator: CuratorAccount | None) -> Withheld | None:
    """Withhold only the words an undecided flag of ``story`` fired on, inside its paragraph, its
    paragraph's translation, a cue or a cue's translation (``withheld_words``); None when no
    undecided flag has that fingerprint. The caller commits and, for a cue, then makes the
    recording's silenced public copy (the cue's seconds go silent)."""
    from nuevonorte import transcripts, translations, withheld_words

    flag = next((f for f in undecided(story) if f.fingerprint == fingerprint), None)
    if flag is None:
        return None
    words = flag.passage.text[flag.start : flag.end]
    if flag.passage.kind in (PARAGRAPH, PARAGRAPH_TRANSLATION):
        index = int(flag.passage.ref)
        if flag.passage.kind == PARAGRAPH:
            layer, text = withheld_words.TOLD, story.paragraphs()[index]
        else:
            layer, text = withheld_words.TRANSLATION, translations.for_staff(story)[index].text
        withheld_words.add(story, layer, index, text, words, curator)
        return Withheld(flag, None)
    cue = _cue(story, flag.passage.ref)
    in_translation = flag.passage.kind == CUE_TRANSLATION
    transcripts.withhold_cue_words(cue, words, in_translation=in_translation, curator=curator)
    return Withheld(flag, cue.transcript.media.public_id)


def _cue(story: Story, ref: str) -> Cue:
    return next(
        c for m in story.media if m.transcript is not None for c in m.transcript.cues if str(c.id) == ref
    )


@dataclass(frozen=True)
class Withheld:
    """What ``withhold`` did: the flag's passage, and the recording to silence (for a cue)."""

    flag: Flag
    recording: str | None
