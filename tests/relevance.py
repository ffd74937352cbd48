"""The bilingual relevance suite: the demo archive, more stories written like it, and queries
with the story each should find among its first three results (decision 0011).

Used by ``tests/test_search_relevance.py`` (stories saved through the domain layer, then
searched through ``search.search_public``) and by ``benchmarks/search.py`` (the same stories
as unsaved objects beside thousands of generated ones). Every person and story is fictional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuevonorte import demo
from nuevonorte.consent import ConsentChoices
from nuevonorte.models import Credit, StoryStatus

#: The share of queries whose expected story must be among the first ``TOP`` results.
TOP = 3

#: Stories beside the demo's, in the demo's shape; "transcript" is (language, cues), each cue
#: (start ms, end ms, text, translation), of a recording with no file (search reads no file).
STORIES: list[dict[str, Any]] = [
    dict(
        key="padre",
        lang="es",
        themes=["deportacion", "familia"],
        places=["tijuana"],
        period=(2011, 2014),
        title=("La deportación de mi padre", "My father's deportation"),
        summary=(
            "Un hijo recuerda el día en que deportaron a su papá después de veinte años en Phoenix.",
            "A son remembers the day his dad was deported after twenty years in Phoenix.",
        ),
        body=(
            "A mi papá lo detuvieron un martes saliendo de la obra. Vivía en Phoenix desde 1991 y "
            "nunca había faltado un día al trabajo. A los deportados los dejaban en la garita de "
            "Nogales con una bolsa de plástico. Mi mamá juntó el dinero del abogado vendiendo "
            "tamales, pero la deportación ya estaba firmada."
        ),
    ),
    dict(
        key="fresas",
        lang="es",
        themes=["trabajo"],
        places=["los-angeles"],
        period=(1998, 2006),
        title=("Cuando vivía en el campo", "When I lived in the fields"),
        summary=(
            "Ocho temporadas pizcando fresa en California, viviendo con los primos en un tráiler.",
            "Eight seasons picking strawberries in California, living with cousins in a trailer.",
        ),
        body=(
            "Vivía con mis primos en un tráiler detrás de los surcos. Nos levantábamos a las "
            "cuatro. El mayordomo decía que quien no aguantara se podía regresar a Michoacán. "
            "Yo le contestaba que trabajaría las horas que hicieran falta, porque en el pueblo "
            "esperaban el giro cada quincena."
        ),
    ),
    dict(
        key="maquila",
        lang="es",
        themes=["trabajo", "frontera"],
        places=["tijuana"],
        period=(2003, 2010),
        title=("Doce horas en la maquiladora", "Twelve hours at the assembly plant"),
        summary=(
            "Una obrera cuenta sus turnos en una maquiladora de arneses en Tijuana.",
            "A worker tells of her shifts at a wiring assembly plant in Tijuana.",
        ),
        body=(
            "Entraba a la maquiladora a las seis de la mañana y salía de noche. Soldábamos "
            "arneses para coches que nunca íbamos a manejar. La supervisora nos contaba los "
            "minutos del baño. Con el primer sueldo le compré a mi hija unos zapatos escolares."
        ),
    ),
    dict(
        key="memoria",
        lang="en",
        themes=["familia", "regreso"],
        places=["honduras"],
        period=(1985, 2020),
        title=("My grandmother's river", "El río de mi abuela"),
        summary=(
            "A granddaughter records what her grandmother remembers of the town they left.",
            "Una nieta graba lo que su abuela recuerda del pueblo que dejaron.",
        ),
        body=(
            "I recorded my grandmother on her eighty-second birthday. She does not remember my "
            "name some days, but she remembers the river behind her house in Olancho, and the "
            "song her father sang while he fixed the nets."
        ),
        transcript=(
            "en",
            [
                (
                    0,
                    6000,
                    "My family left the city when I was six.",
                    "Mi familia dejó la ciudad cuando yo tenía seis años.",
                ),
                (
                    6000,
                    14000,
                    "Her memory of the river is the story she tells every night.",
                    "Su recuerdo del río es la historia que cuenta cada noche.",
                ),
                (
                    14000,
                    20000,
                    "We carried the memories in a shoebox of photographs.",
                    "Cargamos los recuerdos en una caja de zapatos con fotografías.",
                ),
            ],
        ),
    ),
    dict(
        key="albergue",
        lang="es",
        themes=["frontera", "deportacion"],
        places=["tijuana"],
        period=(2019, 2021),
        title=("Una experiencia en el albergue", "A time at the shelter"),
        summary=(
            "Una voluntaria escribe sobre la paciencia y la violencia que ve cada día en un albergue.",
            "A volunteer writes about the patience and the violence she sees every day at a shelter.",
        ),
        body=(
            "Mi experiencia como voluntaria empezó por casualidad. Aprendí que la paciencia es "
            "una forma de respeto. Muchas mujeres llegan huyendo de la violencia, y la diferencia "
            "entre quedarse y seguir es a veces un teléfono prestado. Su presencia me cambió."
        ),
    ),
    dict(
        key="asilo",
        lang="en",
        themes=["frontera"],
        places=["chicago"],
        period=(2018, 2022),
        title=("Asking for asylum in Chicago", "Pedir asilo en Chicago"),
        summary=(
            "Four years of hearings before an immigration judge, and the lawyer who did not give up.",
            "Cuatro años de audiencias ante un juez de inmigración, y la abogada que no se rindió.",
        ),
        body=(
            "The judge asked me the same questions at every hearing. My lawyer, Ms. Okafor, "
            "told me to answer slowly and to say when I did not understand the interpreter. "
            "The court building on Ida B. Wells Drive smelled of floor wax. I was granted "
            "asylum on a Tuesday in March."
        ),
    ),
    dict(
        key="ninos",
        lang="es",
        themes=["idioma", "familia"],
        places=["los-angeles"],
        period=(2008, 2024),
        title=("Mis niños ya no hablan español", "My kids no longer speak Spanish"),
        summary=(
            "Una madre en Los Ángeles escucha a sus hijos contestarle en inglés.",
            "A mother in Los Angeles hears her children answer her in English.",
        ),
        body=(
            "Los niños nacieron en Los Ángeles. De chiquitos hablaban español en la casa y "
            "inglés en la escuela. Un día mi hija me contestó en inglés y me dio vergüenza no "
            "entenderle todo. Ahora los domingos leemos cuentos en español."
        ),
    ),
    dict(
        key="desierto",
        lang="es",
        themes=["frontera"],
        places=["tijuana"],
        period=(2001, 2001),
        title=("Tres noches en el desierto", "Three nights in the desert"),
        summary=(
            "El cruce por el desierto de Sonora con un coyote que los abandonó.",
            "Crossing the Sonoran desert with a smuggler who abandoned them.",
        ),
        body=(
            "Caminamos tres noches por el desierto de Sonora. El coyote nos dejó en un arroyo "
            "seco y nunca volvió. Tomábamos agua de un galón entre seis. Cuando vimos las luces "
            "de la carretera, un muchacho de Veracruz lloró de alivio."
        ),
    ),
    dict(
        key="remesas",
        lang="es",
        themes=["trabajo", "familia"],
        places=["chicago", "oaxaca"],
        period=(1995, 2012),
        title=("El dinero que mandaba a casa", "The money I sent home"),
        summary=(
            "Diecisiete años de remesas desde Chicago levantaron la casa de su madre en Oaxaca.",
            "Seventeen years of remittances from Chicago built his mother's house in Oaxaca.",
        ),
        body=(
            "Cada viernes iba a la tienda de la esquina a mandar el envío por Western Union. "
            "Con las remesas mi mamá levantó dos cuartos de block y un baño. Yo nunca vi la casa "
            "terminada hasta que regresé, ya viejo."
        ),
    ),
    dict(
        key="graduacion",
        lang="en",
        themes=["regreso", "familia"],
        places=["cdmx"],
        period=(2016, 2023),
        title=("A graduation in Mexico City", "Una graduación en la Ciudad de México"),
        summary=(
            "Deported when she was seventeen, a young woman finishes university in Mexico City.",
            "Deportada a los diecisiete años, una joven termina la universidad en la Ciudad de México.",
        ),
        body=(
            "I was seventeen when they sent me to a city I had only seen on postcards. I studied "
            "at UNAM at night and worked at a call center by day. My mother watched my graduation "
            "on a video call from Denver, crying and laughing."
        ),
    ),
    dict(
        key="caravana",
        lang="es",
        themes=["frontera"],
        places=["honduras", "cdmx"],
        period=(2018, 2018),
        title=("La migración desde Honduras", "Migration from Honduras"),
        summary=(
            "Con la caravana que salió de San Pedro Sula, del río Suchiate a la Ciudad de México.",
            "With the caravan that left San Pedro Sula, from the Suchiate river to Mexico City.",
        ),
        body=(
            "Salimos de San Pedro Sula con la caravana en octubre. Cruzamos el río Suchiate en "
            "balsas de llantas. En Chiapas la gente nos regalaba agua y tortillas. Algunos "
            "siguieron en el tren que llaman La Bestia; nosotros caminamos."
        ),
    ),
    dict(
        key="cocina",
        lang="es",
        themes=["familia", "regreso"],
        places=["oaxaca"],
        period=(2020, 2023),
        title=("La cocina de mi abuela", "My grandmother's kitchen"),
        summary=(
            "De vuelta en Oaxaca, un cocinero aprende otra vez el mole negro de su abuela.",
            "Back in Oaxaca, a cook learns his grandmother's black mole again.",
        ),
        body=(
            "En Nueva York cocinaba hamburguesas. Cuando volví a Oaxaca, mi abuela me puso a "
            "tostar chiles chilhuacle en el comal. El mole negro lleva treinta ingredientes y "
            "tres días. Ella no mide nada: prueba y corrige."
        ),
    ),
    dict(
        key="escuela",
        lang="es",
        themes=["regreso", "idioma"],
        places=["cdmx"],
        period=(2015, 2019),
        title=("Volver a la escuela a los cuarenta", "Back to school at forty"),
        summary=(
            "Un retornado termina la preparatoria abierta mientras trabaja de noche.",
            "A returnee finishes high school through an open program while working nights.",
        ),
        body=(
            "Regresé a México sin certificado de secundaria porque la había estudiado en Texas. "
            "La SEP no reconocía mis papeles. Me inscribí en la preparatoria abierta y estudiaba "
            "en el camión. Presenté el último examen a los cuarenta y dos años."
        ),
    ),
    dict(
        key="hermanos",
        lang="es",
        themes=["familia"],
        places=["chicago"],
        period=(1998, 2015),
        title=("Mis hermanos en Chicago", "My brothers in Chicago"),
        summary=(
            "Una hermana que se quedó en el pueblo recuerda las llamadas de los domingos.",
            "A sister who stayed in the village remembers the Sunday phone calls.",
        ),
        body="Esta historia se contó en voz alta; la transcripción está abajo.",
        transcript=(
            "es",
            [
                (
                    0,
                    7000,
                    "Mis hermanos se fueron a Chicago en el noventa y ocho.",
                    "My brothers left for Chicago in ninety-eight.",
                ),
                (
                    7000,
                    15000,
                    "Cada domingo hablábamos por teléfono desde la caseta.",
                    "Every Sunday we talked on the phone from the booth.",
                ),
                (
                    15000,
                    23000,
                    "Mi hermano menor trabajaba en una fábrica de dulces.",
                    "My youngest brother worked in a candy factory.",
                ),
            ],
        ),
    ),
    dict(
        key="cancion",
        lang="es",
        themes=["regreso"],
        places=["oaxaca"],
        period=(2010, 2012),
        title=("La canción del camión", "The song on the bus"),
        summary=(
            "En el camión de regreso a Oaxaca, todos cantaron la misma canción.",
            "On the bus back to Oaxaca, everyone sang the same song.",
        ),
        body=(
            "El camión salió de la central del norte a medianoche. Nadie hablaba hasta que una "
            "señora empezó la canción de la Sandunga, y al rato la cantábamos todos, hasta el "
            "chofer."
        ),
    ),
    dict(
        key="identidad",
        lang="en",
        themes=["idioma", "deportacion"],
        places=["cdmx"],
        period=(2014, 2020),
        title=("No papers in either country", "Sin papeles en ningún país"),
        summary=(
            "A deportee spends two years getting a Mexican birth certificate and an ID.",
            "Un deportado pasa dos años tramitando su acta de nacimiento y su credencial.",
        ),
        body=(
            "In the United States I had no papers. In Mexico I had no papers either: my birth "
            "was never registered. The clerk at the civil registry sent me to three offices. "
            "When I finally held my voter ID, I felt like I existed."
        ),
    ),
]


@dataclass(frozen=True)
class Expect:
    """A query, the visitor's language, and the key of the story it should find."""

    query: str
    lang: str
    key: str


QUERIES: list[Expect] = [
    # The demo archive (nuevonorte/demo.py).
    Expect("panadería", "es", "panaderia"),
    Expect("panaderia", "es", "panaderia"),
    Expect("bakery", "en", "panaderia"),
    Expect("my aunt's bakery", "en", "panaderia"),
    Expect("mi tía", "en", "panaderia"),
    Expect("mi tia", "es", "panaderia"),
    Expect("amasar pan", "es", "panaderia"),
    Expect("Iztapalapa", "en", "panaderia"),
    Expect("Learning Spanish", "en", "spanish"),
    Expect("Learning Spanish again", "es", "spanish"),
    Expect("call center", "en", "spanish"),
    Expect("kitchen Spanish", "en", "spanish"),
    Expect("El primer día en Tijuana", "en", "tijuana"),
    Expect("El primer día en Tijuana", "es", "tijuana"),
    Expect("el primer dia en tijuana", "es", "tijuana"),
    Expect("the first day in Tijuana", "es", "tijuana"),
    Expect("albergue garita", "es", "tijuana"),
    Expect("cinturón sin hebilla", "es", "tijuana"),
    Expect("cinturon hebilla", "es", "tijuana"),
    Expect("shelter next to the border crossing", "en", "tijuana"),
    Expect("coffee sister phone", "en", "tijuana"),  # the transcript's translation
    Expect("Cartas a mi hijo", "es", "cartas"),
    Expect("cartas que todavía no envía", "en", "cartas"),
    Expect("Guelaguetza", "en", "oaxaca"),
    Expect("volver a Oaxaca", "es", "oaxaca"),
    Expect("returning to Oaxaca", "en", "oaxaca"),
    Expect("maíz azul", "es", "oaxaca"),
    Expect("maiz azul", "en", "oaxaca"),
    # Accents, inflection and stems.
    Expect("deportación", "es", "padre"),
    Expect("deportacion", "es", "padre"),
    Expect("deportados", "es", "padre"),
    Expect("La deportación de mi padre", "en", "padre"),
    Expect("my father's deportation", "en", "padre"),
    Expect("dad deported Phoenix", "en", "padre"),
    Expect("vivir en el campo", "es", "fresas"),
    Expect("vivia en un trailer", "es", "fresas"),
    Expect("trabajar las horas", "es", "fresas"),
    Expect("strawberries California", "en", "fresas"),
    Expect("pizcar fresa", "es", "fresas"),
    Expect("maquiladora", "en", "maquila"),
    Expect("arneses", "es", "maquila"),
    Expect("assembly plant shifts", "en", "maquila"),
    Expect("zapatos escolares", "es", "maquila"),
    Expect("experiencias", "es", "albergue"),
    Expect("experiencia voluntaria", "es", "albergue"),
    Expect("violencia", "es", "albergue"),
    Expect("paciencia", "es", "albergue"),
    Expect("patience", "en", "albergue"),
    Expect("family memories", "en", "memoria"),  # transcript words whose stems change
    Expect("grandmother river", "en", "memoria"),
    Expect("el río de mi abuela", "es", "memoria"),
    Expect("Olancho", "es", "memoria"),
    Expect("asylum hearing", "en", "asilo"),
    Expect("pedir asilo", "es", "asilo"),
    Expect("juez de inmigración", "es", "asilo"),
    Expect("immigration judge", "en", "asilo"),
    Expect("niños español", "es", "ninos"),
    Expect("ninos espanol", "es", "ninos"),
    Expect("My kids no longer speak Spanish", "es", "ninos"),
    Expect("Los Ángeles", "en", "ninos"),
    Expect("desierto de Sonora", "en", "desierto"),
    Expect("Sonoran desert", "en", "desierto"),
    Expect("coyote abandonó", "es", "desierto"),
    Expect("tres noches", "es", "desierto"),
    Expect("remesas", "es", "remesas"),
    Expect("remittances", "en", "remesas"),
    Expect("Western Union", "es", "remesas"),
    Expect("graduación", "es", "graduacion"),
    Expect("graduation UNAM", "en", "graduacion"),
    Expect("Una graduación en la Ciudad de México", "en", "graduacion"),
    Expect("caravana", "en", "caravana"),
    Expect("migración Honduras", "es", "caravana"),
    Expect("migracion desde Honduras", "es", "caravana"),
    Expect("La Bestia", "en", "caravana"),
    Expect("río Suchiate", "es", "caravana"),
    Expect("mole negro", "es", "cocina"),
    Expect("la cocina de mi abuela", "en", "cocina"),
    Expect("grandmother's kitchen", "en", "cocina"),
    Expect("preparatoria abierta", "es", "escuela"),
    Expect("back to school", "en", "escuela"),
    Expect("hermanos Chicago", "es", "hermanos"),
    Expect("hablábamos por teléfono", "es", "hermanos"),  # transcript only
    Expect("fábrica de dulces", "es", "hermanos"),
    Expect("candy factory", "en", "hermanos"),  # the transcript's translation
    Expect("canción", "es", "cancion"),
    Expect("cancion camion", "es", "cancion"),
    Expect("Sandunga", "en", "cancion"),
    Expect("acta de nacimiento", "es", "identidad"),
    Expect("birth certificate", "en", "identidad"),
    Expect('"no papers"', "en", "identidad"),
    Expect('"deportación de mi padre"', "es", "padre"),
    Expect('"tres noches"', "es", "desierto"),
]

#: Queries that must find nothing public (stories of the demo that are not public).
ABSENT = [
    Expect("mochila", "es", "mochila"),  # embargoed
    Expect("night shift", "en", "night"),  # submitted, not published
    Expect("abuela maíz llover", "es", "maiz"),  # kept private
]


def specs() -> list[dict[str, Any]]:
    """Every story of the suite: the demo's, then this module's."""
    return [*demo.STORIES, *STORIES]


def consent_of(spec: dict[str, Any]) -> ConsentChoices:
    """A story's consent: the demo's own, or a public pseudonym for this module's."""
    return spec.get("consent") or ConsentChoices(credit=Credit.PSEUDONYM, credit_name="Narradora")


def status_of(spec: dict[str, Any]) -> StoryStatus:
    """A story's status: the demo's own; this module's are published."""
    return spec.get("status", StoryStatus.PUBLISHED)


def transcript_of(spec: dict[str, Any]) -> tuple[str, list[tuple[int, int, str, str]]] | None:
    """A story's transcript (language, cues): this module's, or the demo's Tijuana recording."""
    if spec["key"] == "tijuana":
        return "es", demo.CUES
    found: tuple[str, list[tuple[int, int, str, str]]] | None = spec.get("transcript")
    return found


def score(found: dict[Expect, list[str]]) -> float:
    """The share of queries whose expected story is among the first ``TOP`` found (by key)."""
    return sum(q.key in keys[:TOP] for q, keys in found.items()) / len(found)


def unsaved_stories(first_id: int) -> list[tuple[str, Any]]:
    """Every story of the suite as unsaved objects (for ``benchmarks/search.py``, which has no
    database), ids from ``first_id``: (key, Story). Their public documents are what
    ``public_document`` makes of them; stories that are not public get none."""
    from nuevonorte.models import (
        ConsentRecord,
        Cue,
        GivenBy,
        MediaFile,
        MediaKind,
        Place,
        Story,
        Theme,
        Transcript,
    )

    themes = {slug: Theme(slug=slug, name_es=es, name_en=en) for slug, (es, en) in demo.THEMES.items()}
    places = {
        slug: Place(slug=slug, name_es=es, name_en=en, country_code=cc, level=level)
        for slug, (es, en, cc, level) in demo.PLACES.items()
    }
    made = []
    for n, spec in enumerate(specs()):
        notice = ""
        if n < len(demo.STORIES):  # the demo loader marks its stories as fictional
            notice = demo.DEMO_NOTICE_EN if spec["lang"] == "en" else demo.DEMO_NOTICE_ES
        story = Story(
            id=first_id + n,
            public_id=f"relevance-{spec['key']}",
            status=status_of(spec),
            original_language=spec["lang"],
            body=f"({notice}) {spec['body']}" if notice else spec["body"],
            title_es=spec["title"][0],
            title_en=spec["title"][1],
            summary_es=spec["summary"][0],
            summary_en=spec["summary"][1],
            restricted_paragraphs="",
            period_start=spec["period"][0],
            period_end=spec["period"][1],
            themes=[themes[t] for t in spec["themes"]],
            places=[places[p] for p in spec["places"]],
        )
        choices = consent_of(spec)
        story.consents = [
            ConsentRecord(
                seq=1,
                visibility=choices.visibility,
                credit=choices.credit,
                credit_name=choices.credit_name,
                voice_public=choices.voice_public,
                photos_public=choices.photos_public,
                in_collections=choices.in_collections,
                embargo_until=choices.embargo_until,
                text_version="relevance",
                text_language=spec["lang"],
                given_by=GivenBy.CONTRIBUTOR,
            )
        ]
        transcript = transcript_of(spec)
        if transcript:
            lang, cues = transcript
            media = MediaFile(
                kind=MediaKind.AUDIO, mime_type="audio/mpeg", storage_key="k", checksum="0", size_bytes=1
            )
            media.transcript = Transcript(
                language=lang,
                translation_language="en" if lang == "es" else "es",
                cues=[
                    Cue(position=i, start_ms=s, end_ms=e, text=t, translation=tr)
                    for i, (s, e, t, tr) in enumerate(cues)
                ],
            )
            story.media = [media]
        made.append((spec["key"], story))
    return made
