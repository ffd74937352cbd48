"""Held-out passages for the sensitive-passage assistant, written by a separate author who never
saw its rules; all fictional. Used by tests/test_sensitive.py and benchmarks/sensitive.py.

Measured once before any rule changed (recall 88 %, one false flag: benchmarks/README.md);
the rules were then improved on its misses, so it no longer measures them honestly:
tests/sensitive_unseen.py does."""

from __future__ import annotations

HELDOUT: list[tuple[str, str, set[str]]] = [
    # ---------------------------------------------------------------- Spanish
    ("es", "Nos cruzamos por el rio cerca de Piedras Negras, en una llanta, ya de noche.", {"crossing"}),
    (
        "es",
        (
            "Mi papá le pagó a un pollero para que me pasara, le dio como cinco mil dólares. "
            "Todo lo que tenía ahorrado, imagínese."
        ),
        {"smuggler"},
    ),
    ("es", "A mi me deportaron en 2015 y me volvi a meter como a los seis meses.", {"removal"}),
    (
        "es",
        "Estuve tres meses encerrado en el centro de detención de Eloy, ahi nomas esperando audiencia.",
        {"record"},
    ),
    (
        "es",
        (
            "Pues mire, yo trabajaba con don Ramiro Quezada. Tenia su empresa de techos en Houston, "
            "Quezada Roofing, y ahi duré como ocho años."
        ),
        {"names"},
    ),
    ("es", "Ahorita vivo en la calle Fresno 48, interior 3, colonia Santa Maria la Ribera.", {"address"}),
    ("es", "Si quieren contactarme mi cel es 55 3481 2290, me mandan whats.", {"phone"}),
    (
        "es",
        "Llegue a Chicago el 14 de febrero del 2004, me acuerdo porque era dia del amor y la amistad.",
        {"date"},
    ),
    (
        "es",
        "Cruzamos por el desierto de Sonora caminando tres dias, el pollero adelante y nosotros atras.",
        {"crossing", "smuggler"},
    ),
    (
        "es",
        "A mi hermano Julián lo deportaron en 2019, ya era la segunda vez que lo sacaban.",
        {"names", "removal"},
    ),
    (
        "es",
        (
            "Me metieron a la carcel del condado tres semanas por manejar sin licencia. "
            "Fue la primera vez que estuve preso, no se lo deseo a nadie."
        ),
        {"record"},
    ),
    ("es", "me pasaron en la cajuela de un carro por la garita de tijuana, bien apretado iba", {"crossing"}),
    ("es", "El 3 de marzo me firmaron la salida voluntaria en San Diego, ya ni modo.", {"date", "removal"}),
    (
        "es",
        "Mi esposa se llama Guadalupe Torres y vive en Cerrada de Olivos 12, col. Pedregal, CP 04500.",
        {"names", "address"},
    ),
    (
        "es",
        "Pa que me localicen marquen al 55 1234 9087 o le preguntan a mi hija Yesenia.",
        {"phone", "names"},
    ),
    (
        "es",
        "Me condenaron a dos años por posesion y cuando sali me deportaron derechito, ni me despedi.",
        {"record", "removal"},
    ),
    (
        "es",
        "Trabaje con la señora Margarita Olvera limpiando su casa, ella me pagaba en efectivo cada viernes.",
        {"names"},
    ),
    (
        "es",
        (
            "oiga pues el pasador nos cruzo por un tunel en Nogales. salimos en una bodega "
            "del otro lado y ahi nos tuvieron dos dias"
        ),
        {"smuggler", "crossing"},
    ),
    # Spanish, close to sensitive but not sensitive
    (
        "es",
        "Mucha gente de mi colonia se fue pal norte en esos años, y muchos regresaron deportados.",
        set(),
    ),
    ("es", "Yo cruzaba la calzada de Tlalpan todos los dias para ir a la chamba.", set()),
    ("es", "Me fui a Estados Unidos en 1998 y regresé en marzo de 2010, ya con mis hijos grandes.", set()),
    ("es", "Allá ganaba como 400 dolares a la semana, aquí apenas saco 2,000 pesos.", set()),
    (
        "es",
        "Mi mamá y mis hermanos se quedaron en Puebla, yo me vine sola a la Ciudad de México.",
        set(),
    ),
    (
        "es",
        (
            "Cuando veia en la tele a Juan Gabriel cantando me ponia a llorar. "
            "Vivia yo por la avenida Insurgentes en ese entonces."
        ),
        set(),
    ),
    # ---------------------------------------------------------------- English
    ("en", "We crossed the Rio Grande near Eagle Pass on an inner tube at night.", {"crossing"}),
    ("en", "My uncle paid a coyote eight thousand dollars to get me across.", {"smuggler"}),
    ("en", "I was deported in 2012 and came back about a year later.", {"removal"}),
    ("en", "They arrested me at a traffic stop and I spent two months in county jail.", {"record"}),
    ("en", "My boss was Kevin Marsh, he owned Marsh Landscaping in Dallas.", {"names"}),
    ("en", "I live at 2217 West Cermak Road, apartment 4B, Chicago, IL 60608.", {"address"}),
    ("en", "You can reach me at (312) 555-0147 after six in the evening.", {"phone"}),
    ("en", "I arrived in Los Angeles on July 9, 2001, the day my daughter turned two.", {"date"}),
    (
        "en",
        "The smuggler hid six of us in the back of a trailer and drove us through Laredo.",
        {"smuggler", "crossing"},
    ),
    ("en", "My cousin Efrain got a removal order last year and now he's hiding.", {"names", "removal"}),
    ("en", "I got convicted for a DUI back in 2008 and did probation.", {"record"}),
    ("en", "We climbed the wall near Tijuana with a ladder, my knees still hurt.", {"crossing"}),
    (
        "en",
        "On November 22 they put me on a bus back to Mexico. Voluntary departure, they called it.",
        {"date", "removal"},
    ),
    ("en", "My sister Marisol Vega stays at 418 Maple Street, Apt 2, in Santa Ana.", {"names", "address"}),
    ("en", "Call my son Brandon at 213-555-0199 if you need anything.", {"names", "phone"}),
    (
        "en",
        "I was held at the Otero detention center for five weeks and then they removed me.",
        {"record", "removal"},
    ),
    (
        "en",
        "me and my friend Tomas paid the pollero half up front, the rest when we got to Phoenix",
        {"names", "smuggler"},
    ),
    ("en", "My birthday is May 12, I was born in Oaxaca, and my number is 915-555-0923.", {"date", "phone"}),
    # English, close to sensitive but not sensitive
    (
        "en",
        "Deportations went way up in those years, everybody in the neighborhood knew someone.",
        set(),
    ),
    ("en", "I crossed the street to the bus stop and waited for the number 7 bus.", set()),
    ("en", "I left in 2005 and came back in August 2016.", set()),
    (
        "en",
        "Chicago is about 1,200 miles from my hometown, and I made around $300 a week there.",
        set(),
    ),
    ("en", "My grandmother raised me and my brothers while my parents worked up north.", set()),
    ("en", "I saw Vicente Fox once at a rally on Reforma Avenue, that was something.", set()),
]
