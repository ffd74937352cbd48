"""A second held-out set for the sensitive-passage assistant, written by a separate author who never
saw its rules nor the other sets, after the rules were last tuned; all fictional. Used by
tests/test_sensitive.py and benchmarks/sensitive.py."""

from __future__ import annotations

FRESH: list[tuple[str, str, set[str]]] = [
    # --- Spanish, sensitive ---
    (
        "es",
        "me aventé por el rio bravo cerca de piedras negras, nadando de noche con una camara de llanta",
        {"crossing"},
    ),
    ("es", "el coyote nos cobro 3500 dolares por cabeza y a medio camino nos dejo tirados", {"smuggler"}),
    (
        "es",
        (
            "a mi me deportaron en el 2011 y a los dos meses ya me habia vuelto a meter. "
            "nomas no me hallaba aca"
        ),
        {"removal"},
    ),
    ("es", "me agarraron manejando sin licencia y me chute 6 meses en la carcel del condado", {"record"}),
    ("es", "mi tio se llama rigoberto salinas, el fue el q nos recibio en houston", {"names"}),
    ("es", "viviamos en calle tlacotalpan 48 int 3, col. roma sur, ahi rentabamos un cuartito", {"address"}),
    ("es", "si quieren hablar conmigo marquenme al 55 4821 7730 ya en la tarde", {"phone"}),
    (
        "es",
        (
            "salimos de zacatecas el 14 de febrero del 2003, me acuerdo pq era dia del amor "
            "y mi mama lloro mucho"
        ),
        {"date"},
    ),
    (
        "es",
        "el pollero nos metio en la caja de un trailer, ibamos como cuarenta bien apretados",
        {"smuggler", "crossing"},
    ),
    (
        "es",
        (
            "a mi hermana yesenia la pararon en la garita con una mica prestada. "
            "le dieron orden de deportacion y la echaron pa tijuana"
        ),
        {"names", "crossing", "removal"},
    ),
    (
        "es",
        ("trabaje con don aurelio castañeda en su taller de carros, alla en la colonia moctezuma 2a seccion"),
        {"names", "address"},
    ),
    (
        "es",
        "tengo antecedentes del otro lado, me acusaron de robo y anduve en probation dos años",
        {"record"},
    ),
    (
        "es",
        (
            "firme la salida voluntaria porque ya no aguantaba el centro de detencion, "
            "estaba bien feo ahi adentro"
        ),
        {"removal", "record"},
    ),
    ("es", "cruzamos el desierto por sasabe, fueron 4 dias caminando sin agua casi", {"crossing"}),
    ("es", "le pagamos a un pasador pa que nos brincara por los cerros de tecate", {"smuggler", "crossing"}),
    ("es", "mi numero de alla era el (323) 555-0187, todavia me lo se de memoria", {"phone"}),
    ("es", "llegue a la central del norte el 22 de octubre sin un peso en la bolsa", {"date"}),
    ("es", "cualquier cosa le hablas a mi comadre lupita al 044 55 1937 2284", {"names", "phone"}),
    # --- Spanish, not sensitive ---
    ("es", "en las noticias dicen q este año deportaron a mas de 200 mil paisanos, esta canijo", set()),
    ("es", "me vine al df en enero del 98, cuando todavia estaba bien chavo", set()),
    ("es", "cruzamos el zocalo corriendo porque empezo a llover bien feo", set()),
    ("es", "la renta me sale en 4500 al mes y el pasaje otros 800, no alcanza", set()),
    ("es", "cada año le llevo flores a san judas, mi mama y mis hermanas tambien van", set()),
    ("es", "quedamos en el metro hidalgo, saliendo por la calle de zarco", set()),
    # --- English, sensitive ---
    ("en", "We crossed through a tunnel near Nogales that came up inside a warehouse.", {"crossing"}),
    (
        "en",
        "My cousin paid a guide two thousand dollars to take her over the mountains.",
        {"smuggler", "crossing"},
    ),
    ("en", "I was removed in 2014 and the judge said I could not come back for ten years.", {"removal"}),
    (
        "en",
        ("They booked me at the county jail and I got a misdemeanor charge for driving without a license."),
        {"record"},
    ),
    ("en", "I worked for Harold Benninger at his landscaping business for almost six years.", {"names"}),
    ("en", "Back then we lived at 1427 West Cortland Avenue, apartment 2B, in Chicago.", {"address"}),
    ("en", "You can reach my son at 773-555-0142 after six.", {"phone"}),
    ("en", "On March 3rd, 2007, I landed in Mexico City with just a backpack.", {"date"}),
    (
        "en",
        "My sister Rosalba hid in the trunk of a car to get past the border at San Ysidro.",
        {"names", "crossing"},
    ),
    (
        "en",
        "The coyotes kept us in a stash house until my brother-in-law wired them the money.",
        {"smuggler"},
    ),
    (
        "en",
        "After I got deported the first time, I came back across the river at Laredo.",
        {"removal", "crossing"},
    ),
    ("en", "I spent eleven months in federal prison before they sent me back.", {"record", "removal"}),
    (
        "en",
        ("My compadre Chuy Ortega still lives on calle Naranjo 212, colonia Santa Maria la Ribera."),
        {"names", "address"},
    ),
    ("en", "Call my wife at +52 55 3318 0946 if something happens to me.", {"phone"}),
    (
        "en",
        "I was on probation until the 17th of August, and then ICE picked me up at my check-in.",
        {"record", "date"},
    ),
    ("en", "The pollero told us to climb the wall with a ladder made of rebar.", {"smuggler", "crossing"}),
    (
        "en",
        "My boss at Delgado Roofing, Mr. Kessler, gave me his number: (915) 555-0733.",
        {"names", "phone"},
    ),
    (
        "en",
        "They gave me voluntary departure on 12/04/2009 and I flew out two weeks later.",
        {"removal", "date"},
    ),
    # --- English, not sensitive ---
    ("en", "Deportations have been in the news every night since the new policy started.", set()),
    ("en", "I moved to Los Angeles in 2005 and worked in a bakery downtown.", set()),
    ("en", "We crossed the plaza to get to the church of Saint Anthony before mass.", set()),
    ("en", "My badge number at the plant was 40817 and I earned 9 dollars an hour.", set()),
    ("en", "My aunt and my grandmother raised me while my parents were working up north.", set()),
    ("en", "We met at the Benito Juarez monument in the Alameda in June 2016.", set()),
]
