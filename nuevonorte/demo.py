"""A small bilingual demo archive. Every story, name and place in it is fictional."""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from datetime import date
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.media import ingest_upload
from nuevonorte.models import (
    Collection,
    CollectionEntry,
    CollectionStatus,
    Credit,
    Cue,
    EntryKind,
    MediaFile,
    Place,
    PlaceLevel,
    Story,
    StoryStatus,
    Theme,
    Transcript,
    Visibility,
)
from nuevonorte.models.base import today

DEMO_NOTICE_ES = "Relato ficticio de demostración."
DEMO_NOTICE_EN = "Fictional demo story."
DEMO_COLLECTION_TITLE = "Regresar: relatos de vuelta (demostración)"

THEMES = {
    "deportacion": ("Deportación", "Deportation"),
    "familia": ("Familia", "Family"),
    "trabajo": ("Trabajo", "Work"),
    "regreso": ("Regreso", "Return"),
    "frontera": ("Frontera", "Border"),
    "idioma": ("Idioma", "Language"),
}
PLACES = {
    "cdmx": ("Ciudad de México", "Mexico City", "MX", PlaceLevel.CITY),
    "tijuana": ("Tijuana", "Tijuana", "MX", PlaceLevel.CITY),
    "oaxaca": ("Oaxaca", "Oaxaca", "MX", PlaceLevel.STATE),
    "chicago": ("Chicago", "Chicago", "US", PlaceLevel.CITY),
    "los-angeles": ("Los Ángeles", "Los Angeles", "US", PlaceLevel.CITY),
    "honduras": ("Honduras", "Honduras", "HN", PlaceLevel.COUNTRY),
}

PUBLIC = Visibility.PUBLIC
STORIES: list[dict[str, Any]] = [
    dict(
        key="panaderia",
        lang="es",
        status=StoryStatus.PUBLISHED,
        themes=["familia", "trabajo", "regreso"],
        places=["cdmx", "chicago"],
        media=["image", "audio"],
        period=(2009, 2019),
        title=("La panadería de mi tía", "My aunt's bakery"),
        summary=(
            "Después de diez años en Chicago, una mujer vuelve a amasar pan en la panadería de su tía en Iztapalapa.",
            "After ten years in Chicago, a woman kneads bread again in her aunt's bakery in Iztapalapa.",
        ),
        body="Cuando regresé, lo primero que hice fue ir a la panadería. Mi tía no me preguntó nada; me dio un mandil y me puso a amasar. Las manos se acuerdan de lo que uno quiere olvidar, y también de lo que uno quiere guardar.",
        consent=ConsentChoices(PUBLIC, Credit.PSEUDONYM, "Rosa M.", voice_public=True, photos_public=True),
    ),
    dict(
        key="spanish",
        lang="en",
        status=StoryStatus.PUBLISHED,
        themes=["deportacion", "idioma", "regreso"],
        places=["los-angeles", "cdmx"],
        media=["image"],
        period=(1998, 2021),
        title=("", "Learning Spanish again"),
        summary=(
            "",
            "Deported at thirty to a country he left at four, a man relearns the language of his parents.",
        ),
        body="I grew up in Los Angeles. My Spanish was kitchen Spanish, the words my mother used to call us to dinner. When I landed in Mexico City I could order tacos but I could not fill out a form. A call center hired me because of my English. Every night I studied the words I was missing.",
        consent=ConsentChoices(PUBLIC, Credit.NAME, "Daniel R.", voice_public=False, photos_public=True),
    ),
    dict(
        key="tijuana",
        lang="es",
        status=StoryStatus.PUBLISHED,
        themes=["deportacion", "frontera"],
        places=["tijuana"],
        media=["audio"],
        period=(2017, 2017),
        title=("El primer día en Tijuana", "The first day in Tijuana"),
        summary=(
            "La primera noche después de la deportación, en un albergue junto a la garita.",
            "The first night after deportation, in a shelter next to the border crossing.",
        ),
        body="Nos bajaron del camión a las tres de la mañana. Traía una bolsa de plástico con mis papeles y un cinturón sin hebilla. En el albergue una señora me dio café y me prestó su teléfono para llamar a mi hermana.",
        consent=ConsentChoices(PUBLIC, Credit.ANONYMOUS, "", voice_public=False, photos_public=False),
    ),
    dict(
        key="cartas",
        lang="es",
        status=StoryStatus.PUBLISHED,
        themes=["familia"],
        places=["honduras", "cdmx"],
        media=[],
        period=(2015, 2023),
        title=("Cartas a mi hijo", ""),
        summary=("Una madre escribe cartas que todavía no envía.", ""),
        body="Hijo: te escribo desde la ciudad grande. Aquí hay tanta gente que a veces nadie me ve, y eso a veces es bueno. Cuando tengas edad para leer esto, quiero que sepas que cada paso lo di pensando en ti.",
        consent=ConsentChoices(PUBLIC, Credit.PSEUDONYM, "Marta", in_collections=False),
    ),
    dict(
        key="mochila",
        lang="es",
        status=StoryStatus.PUBLISHED,
        themes=["frontera"],
        places=["tijuana"],
        media=["image"],
        period=(2024, 2024),
        title=("Lo que traje en la mochila", "What I carried in my backpack"),
        summary=("Un inventario de lo que cabe en una mochila.", "An inventory of what fits in a backpack."),
        body="Una cobija, dos playeras, una foto de mi mamá, un cuaderno. Lo demás se quedó.",
        consent=ConsentChoices(
            PUBLIC, Credit.PSEUDONYM, "Luis", photos_public=True, embargo_until=date(2030, 1, 1)
        ),
    ),
    dict(
        key="night",
        lang="en",
        status=StoryStatus.SUBMITTED,
        themes=["trabajo"],
        places=["chicago"],
        media=[],
        period=(2012, 2016),
        title=("", "The night shift"),
        summary=("", ""),
        body="For four years I worked nights cleaning offices downtown. I knew the buildings better than the people who worked in them.",
        consent=ConsentChoices(PUBLIC, Credit.PSEUDONYM, "J."),
    ),
    dict(
        key="maiz",
        lang="es",
        status=StoryStatus.PRIVATE,
        themes=["familia"],
        places=["oaxaca"],
        media=[],
        period=(1990, 2000),
        title=("Mi abuela y el maíz", "My grandmother and the corn"),
        summary=("", ""),
        body="Mi abuela sabía cuándo iba a llover por el olor de la tierra.",
        consent=ConsentChoices(Visibility.CURATORS, Credit.ANONYMOUS, ""),
    ),
    dict(
        key="oaxaca",
        lang="es",
        status=StoryStatus.PUBLISHED,
        themes=["regreso", "familia"],
        places=["oaxaca"],
        media=["image"],
        period=(2022, 2022),
        title=("Volver a Oaxaca", "Returning to Oaxaca"),
        summary=(
            "Una familia vuelve a su pueblo para la fiesta de la Guelaguetza.",
            "A family returns to their village for the Guelaguetza festival.",
        ),
        body="Mis hijos nacieron en California y nunca habían visto el pueblo. Mi papá los llevó al campo el primer día y les enseñó a distinguir el maíz azul.",
        consent=ConsentChoices(PUBLIC, Credit.PSEUDONYM, "Familia V.", photos_public=True),
    ),
]

CUES = [
    (
        0,
        2000,
        "Nos bajaron del camión a las tres de la mañana.",
        "They let us off the bus at three in the morning.",
    ),
    (2000, 4000, "En el albergue una señora me dio café.", "At the shelter a woman gave me coffee."),
    (
        4000,
        6000,
        "Me prestó su teléfono para llamar a mi hermana.",
        "She lent me her phone to call my sister.",
    ),
]


@dataclass(frozen=True)
class Summary:
    """How much demo content was loaded."""

    stories: int
    media: int
    collections: int


def is_loaded() -> bool:
    """Whether the demo collection exists already."""
    return bool(db.session.scalar(select(Collection.id).where(Collection.title_es == DEMO_COLLECTION_TITLE)))


def archive_has_stories() -> bool:
    """Whether the archive holds any story at all."""
    return bool(db.session.scalar(select(func.count(Story.id))))


def load() -> Summary:
    """Add the demo archive to the session; the caller commits."""
    themes = {slug: Theme(slug=slug, name_es=es, name_en=en) for slug, (es, en) in THEMES.items()}
    places = {
        slug: Place(slug=slug, name_es=es, name_en=en, country_code=cc, level=level)
        for slug, (es, en, cc, level) in PLACES.items()
    }
    db.session.add_all([*themes.values(), *places.values()])

    made: dict[str, Story] = {}
    media_count = 0
    for i, spec in enumerate(STORIES):
        notice = DEMO_NOTICE_EN if spec["lang"] == "en" else DEMO_NOTICE_ES
        story = stories.submit(
            None,
            body=f"({notice}) {spec['body']}",
            choices=spec["consent"],
            consent_language=spec["lang"],
            language=spec["lang"],
            themes=[themes[t] for t in spec["themes"]],
            places=[places[p] for p in spec["places"]],
        )
        story.title_es, story.title_en = spec["title"]
        story.summary_es, story.summary_en = spec["summary"]
        story.period_start, story.period_end = spec["period"]
        for position, kind in enumerate(spec["media"]):
            # Ingest appends the media to the story, exactly as for a contributor's upload.
            generated_image(story, i, position) if kind == "image" else generated_audio(story, i, position)
            media_count += 1
        if spec["status"] == StoryStatus.PUBLISHED:
            stories.publish(story, None)
        elif spec["status"] == StoryStatus.PRIVATE:
            stories.keep_private(story, None)
        made[spec["key"]] = story

    audio = made["tijuana"].media[0]
    audio.transcript = Transcript(
        language="es",
        translation_language="en",
        cues=[
            Cue(position=n, start_ms=s, end_ms=e, text=t, translation=tr)
            for n, (s, e, t, tr) in enumerate(CUES)
        ],
    )
    collection = _demo_collection(made)
    db.session.add(collection)
    db.session.flush()
    return Summary(stories=len(made), media=media_count, collections=1)


def _demo_collection(made: dict[str, Story]) -> Collection:
    entries = [
        CollectionEntry(
            kind=EntryKind.TEXT,
            text_es="Estos relatos ficticios de demostración hablan de volver: a una ciudad, a una lengua, a una cocina.",
            text_en="These fictional demo stories are about coming back: to a city, to a language, to a kitchen.",
        ),
        CollectionEntry(
            kind=EntryKind.STORY,
            story=made["panaderia"],
            text_es="Las manos recuerdan.",
            text_en="Hands remember.",
        ),
        CollectionEntry(kind=EntryKind.STORY, story=made["spanish"]),
        CollectionEntry(kind=EntryKind.STORY, story=made["tijuana"]),
        CollectionEntry(kind=EntryKind.STORY, story=made["oaxaca"]),
    ]
    for position, entry in enumerate(entries):
        entry.position = position
    return Collection(
        title_es=DEMO_COLLECTION_TITLE,
        title_en="Coming back: stories of return (demo)",
        intro_es="Una colección de demostración. Todas las personas y relatos son ficticios.",
        intro_en="A demo collection. Every person and story in it is fictional.",
        status=CollectionStatus.PUBLISHED,
        published_on=today(),
        entries=entries,
        cover=made["panaderia"].media[0],
    )


# --- generated media (made in memory, then stored through ingest like any upload) ----------

PALETTE = [(196, 86, 52), (44, 110, 120), (230, 180, 80), (90, 60, 120), (60, 130, 80), (150, 40, 70)]


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def generated_image(story: Story, seed: int, position: int) -> MediaFile:
    """Attach an abstract generated photo to ``story`` through ingest, like any upload."""
    width, height = 1200, 800
    image = Image.new("RGB", (width, height), PALETTE[seed % len(PALETTE)])
    draw = ImageDraw.Draw(image)
    for n in range(6):
        color = PALETTE[(seed + n + 1) % len(PALETTE)]
        r = 60 + 25 * ((seed + n) % 5)
        x, y = (150 + 170 * n) % width, (200 + 97 * (seed + n)) % height
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
    draw.text((40, 40), "DEMO", fill=(255, 255, 255))
    media, _report = ingest_upload(story, io.BytesIO(_jpeg(image)), position=position)
    media.alt_es = "Ilustración abstracta de demostración: círculos de colores."
    media.alt_en = "Abstract demo illustration: coloured circles."
    return media


def generated_audio(story: Story, seed: int, position: int, seconds: int = 6, rate: int = 16000) -> MediaFile:
    """Attach a generated soft two-tone recording to ``story`` through ingest."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        base = 220 + 20 * seed
        frames = bytearray()
        for n in range(seconds * rate):
            t = n / rate
            fade = min(1.0, t * 4, (seconds - t) * 4)
            value = (
                0.2 * fade * (math.sin(2 * math.pi * base * t) + 0.5 * math.sin(2 * math.pi * base * 1.5 * t))
            )
            frames += struct.pack("<h", int(value * 32767 / 1.5))
        w.writeframes(bytes(frames))
    media, _report = ingest_upload(story, io.BytesIO(out.getvalue()), position=position)
    return media
