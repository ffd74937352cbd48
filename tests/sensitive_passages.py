"""Written test passages for the sensitive-passage assistant (``nuevonorte.sensitive``).

Each is (language, text, the rule codes a careful curator would want flagged). Written for
these tests, all fictional (names, streets, numbers and dates are made up), in the way the
workshop's narrators speak and write, including passages that look dangerous and are not.
``tests/test_sensitive.py`` checks the assistant against them and
``benchmarks/sensitive.py`` prints its recall and false positives per rule.
"""

from __future__ import annotations

PASSAGES: list[tuple[str, str, set[str]]] = [
    # --- crossing -------------------------------------------------------------------------
    ("es", "Crucé el río Bravo de noche, agarrada de una cámara de llanta.", {"crossing"}),
    ("es", "Brincamos la barda por donde no había luz y corrimos hasta el estacionamiento.", {"crossing"}),
    ("es", "Caminamos tres días por el desierto de Sonora hasta llegar a la carretera.", {"crossing"}),
    ("es", "Nos metieron en la cajuela de un carro, a mí y a otros dos muchachos.", {"crossing"}),
    ("es", "Pasamos por Nogales, escondidos entre las cajas de un tráiler de fruta.", {"crossing"}),
    ("en", "We crossed the river near Eagle Pass when the water was low.", {"crossing"}),
    ("en", "I climbed the fence at night and hid in the bushes until morning.", {"crossing"}),
    ("en", "They hid us in the trailer of a truck for eleven hours.", {"crossing"}),
    # --- smugglers ------------------------------------------------------------------------
    ("es", "El coyote nos dejó solos a medio camino.", {"smuggler"}),
    ("es", "Mi tío le pagó a un pollero para que me llevara.", {"smuggler"}),
    ("es", "Nos cobraron cinco mil dólares por pasarnos.", {"smuggler"}),
    ("en", "The smugglers took our phones and our shoes.", {"smuggler"}),
    ("en", "My mother paid four thousand dollars to get me across.", {"smuggler"}),
    # --- removals -------------------------------------------------------------------------
    ("es", "Me deportaron en 2014 y regresé a un país que ya no conocía.", {"removal"}),
    ("es", "Fui deportado dos veces antes de quedarme aquí para siempre.", {"removal"}),
    ("es", "Tengo una orden de deportación desde hace años.", {"removal"}),
    ("es", "Volví a cruzar un año después, sin que nadie supiera.", {"removal"}),
    ("en", "I was deported after eleven years in Chicago.", {"removal"}),
    ("en", "They deported him twice, and he came back both times.", {"removal"}),
    ("en", "The judge gave me a removal order and ninety days.", {"removal"}),
    # --- arrests, detention, convictions ---------------------------------------------------
    ("es", "Estuve preso seis meses por manejar sin licencia.", {"record"}),
    ("es", "Me detuvieron en una redada en el trabajo.", {"record"}),
    ("es", "Pasé dos semanas en el centro de detención antes de la audiencia.", {"record"}),
    ("en", "I served time in county jail for a fight I did not start.", {"record"}),
    ("en", "I was detained at the bus station and they took my fingerprints.", {"record"}),
    ("en", "He had a DUI and that was enough for them.", {"record"}),
    # --- names of relatives, employers, people ---------------------------------------------
    ("es", "Mi hermana Rosaura se quedó en Houston con los niños.", {"names"}),
    ("es", "Trabajé para don Eliseo en la obra, sin contrato.", {"names"}),
    ("es", "Mi patrón, Gilberto Arcos, nunca nos pagó las horas extra.", {"names"}),
    ("es", "El muchacho que nos ayudó se llamaba Fermín.", {"names"}),
    ("en", "My cousin Marisol still works at the plant.", {"names"}),
    ("en", "I worked for Hallorans Roofing for six years.", {"names"}),
    ("en", "Mrs. Whitcombe let us stay in her garage.", {"names"}),
    # --- addresses ------------------------------------------------------------------------
    ("es", "Vivimos en la calle Sauces 118, en Iztapalapa.", {"address"}),
    ("es", "La casa de huéspedes está en la colonia Morelos, interior 4.", {"address"}),
    ("en", "We rented a room at 2240 North Alder Avenue.", {"address"}),
    ("en", "Apartment 3B was the only one with heat.", {"address"}),
    # --- phone numbers --------------------------------------------------------------------
    ("es", "Si alguien sabe de él, mi celular es 55 3817 2290.", {"phone"}),
    ("es", "Mi mamá todavía contesta en el 2281904455.", {"phone"}),
    ("en", "You can reach my sister at (915) 555-0187.", {"phone"}),
    ("en", "Call +52 1 664 555 0192 and ask for the shelter.", {"phone"}),
    # --- exact dates ----------------------------------------------------------------------
    ("es", "Salimos de Chiapas el 14 de febrero de 2016.", {"date"}),
    ("es", "Me soltaron el 03/11/2019, sin papeles y sin dinero.", {"date"}),
    ("en", "We reached the border on June 9, 2018.", {"date"}),
    ("en", "On the 2nd of April they came to the house.", {"date"}),
    # --- several at once ------------------------------------------------------------------
    (
        "es",
        "El 7 de mayo de 2012 me agarraron en Altar; me deportaron y el coyote ya no contestaba.",
        {"date", "removal", "smuggler"},
    ),
    (
        "en",
        "My uncle Teodoro drove us from Laredo; we crossed the river and I was arrested two days later.",
        {"names", "crossing", "record"},
    ),
    # --- passages that look dangerous and are not -----------------------------------------
    ("es", "La deportación separa a las familias; eso es lo que quiero que se entienda.", set()),
    ("es", "Llegué a Tijuana con mi mamá en 1998 y vendíamos tamales.", set()),
    ("es", "Cruzamos la ciudad en metro para llegar al taller.", set()),
    ("es", "Mi mamá cocinaba frijoles los domingos y la casa olía a epazote.", set()),
    ("es", "Pagamos la renta entre cuatro; nadie ganaba mucho.", set()),
    ("es", "En marzo de 2010 empecé a trabajar en la cocina de un restaurante.", set()),
    ("es", "La calle donde crecí tenía jacarandas.", set()),
    ("en", "Deportation is something every family in our building has lived through.", set()),
    ("en", "I crossed the street to the church every Sunday.", set()),
    ("en", "We were 1,200 miles from home and the job paid 400 dollars a week.", set()),
    ("en", "In the spring of 2005 I learned to drive.", set()),
    ("en", "My mother taught me to sew when I was seven.", set()),
    ("en", "The workshop meets on Thursdays at the library.", set()),
]
