"""Unseen evaluation passages for the sensitive-passage assistant (a second held-out set).

These passages were written independently of the rules by a separate author who did not see
them (nor the development passages), so the recall measured on them is honest. Every name,
street, number and date here is fictional; US phone numbers use the 555 range.

Each entry is ``(lang, text, expected_codes)``. Twelve passages (six per language) contain no
sensitive information but sit close to it and expect an empty set.

Used by tests/test_sensitive.py and benchmarks/sensitive.py. Unlike tests/sensitive_heldout.py,
whose misses were used to improve the rules, no rule was changed after reading these: the
figures measured on them are the honest ones.
"""

UNSEEN: list[tuple[str, str, set[str]]] = [
    # --- Spanish (Mexico City), with sensitive information -----------------------------------
    (
        "es",
        "Pues nos cruzamos por el rio, por alla por Piedras Negras, agarrados de unas camaras de "
        "llanta. El pollero nos cobro como 3 mil dolares a cada quien y nos dijo que ni "
        "hablaramos.",
        {"crossing", "smuggler"},
    ),
    (
        "es",
        "A mi me deportaron el 3 de marzo del 2017, me aventaron en Nogales con la pura ropa que "
        "traia y ni un peso en la bolsa.",
        {"removal", "date"},
    ),
    (
        "es",
        "Estuve encerrado como ocho meses en un centro de detencion en Arizona nomas por no traer "
        "papeles. Ya luego me agarraron otra vez manejando sin licencia y me dejaron en la carcel "
        "del condado, ahi si me fue mal.",
        {"record"},
    ),
    (
        "es",
        "Si quieren platicar con mi hermana Guadalupe Rentería, su cel es 55 3187 4402, ella se "
        "acuerda mejor que yo de todo lo que paso.",
        {"names", "phone"},
    ),
    (
        "es",
        "ahorita rento un cuartito en Calle Mimosas 48 interior 3, col. Santa María la Ribera, "
        "ahi me llegan las cartas",
        {"address"},
    ),
    (
        "es",
        "mi papa junto el dinero vendiendo dos vacas pa pagarle al coyote, que era de un rancho "
        "cerquita del nuestro y ya tenia fama de que si te pasaba",
        {"smuggler"},
    ),
    (
        "es",
        "Nos escondimos en la caja de un trailer, eramos como cuarenta, no se podia ni respirar. "
        "Asi pasamos la garita de Laredo, acostados entre las cajas de aguacate.",
        {"crossing"},
    ),
    (
        "es",
        "mi hijo Brandon nacio alla en Dallas el 22 de noviembre, por eso el si tiene papeles y "
        "sus hermanos no",
        {"names", "date"},
    ),
    (
        "es",
        "Ya era la segunda vez que me regresaban. La primera fue con salida voluntaria, firme un "
        "papel en ingles sin entender nada, y la segunda ya fue con orden de deportacion y todo.",
        {"removal"},
    ),
    (
        "es",
        "A mi compa Efraín Solís lo detuvieron en una redada en la empacadora donde trabajabamos "
        "y le levantaron cargos por usar un seguro social que no era suyo.",
        {"names", "record"},
    ),
    (
        "es",
        "Trabaje seis años en Construcciones Garza Hermanos, alla en Houston. El patron se llamaba "
        "don Ramiro y nos pagaba en efectivo cada viernes, nunca nos pidio nada.",
        {"names"},
    ),
    (
        "es",
        "mi numero es el 55-2916-0387 y vivo en Av. Tláhuac 3521 depto 12, CP 09880, por si "
        "necesitan mandarme algo o venir a la casa",
        {"phone", "address"},
    ),
    (
        "es",
        "Despues de que me deportaron me regrese a los tres meses, ahora por el desierto de "
        "Sonora. Caminamos cuatro noches y de dia nos escondiamos abajo de los mezquites.",
        {"removal", "crossing"},
    ),
    (
        "es",
        "me agarro la migra el 9 de julio saliendo de la chamba y me tuvieron en el corralon de "
        "Eloy casi un año, sin ver a mis hijos",
        {"record", "date"},
    ),
    (
        "es",
        "El pasador nos tenia amontonados en una casa de seguridad en la calle Hidalgo numero 214 "
        "hasta que juntara a todo el grupo, nos daban una torta al dia.",
        {"smuggler", "address"},
    ),
    (
        "es",
        "Yo me fui en el 98, tenia 17 años. Me fui con mi tio Chuy que ya habia ido dos veces y "
        "se sabia el camino. Llegamos a Tijuana y de ahi nos pasamos por el cerro, de noche, por "
        "un hoyo en la malla. Alla trabaje en los campos de fresa y luego en una cocina.",
        {"names", "crossing"},
    ),
    (
        "es",
        "mandame whats al 5548213907 y te paso las fotos de cuando mi jefita estaba joven",
        {"phone"},
    ),
    (
        "es",
        "A mi esposo Arturo lo deportaron hace dos años y yo me quede sola alla con los niños, "
        "hasta que ya no aguante y me vine detras de el.",
        {"names", "removal"},
    ),
    # --- Spanish, close to sensitive but with nothing to flag --------------------------------
    (
        "es",
        "Aqui en el albergue hay muchos que los deportaron, llegan sin nada, a veces ni zapatos "
        "traen. Eso de la deportacion es bien duro para cualquiera, no nomas para uno.",
        set(),
    ),
    (
        "es",
        "Llegue a la Ciudad de Mexico en marzo del 2020, justo cuando empezo la pandemia, y tarde "
        "como un año en encontrar trabajo fijo.",
        set(),
    ),
    (
        "es",
        "para llegar al centro comunitario tienes que cruzar la avenida Insurgentes, que esta bien "
        "peligrosa porque los carros no se paran ni con el semaforo",
        set(),
    ),
    (
        "es",
        "Mi mama y mis hermanas se quedaron en Puebla. Les mando como 1,500 pesos cada quincena "
        "cuando se puede, y mi sobrino el mas chico me marca los domingos.",
        set(),
    ),
    (
        "es",
        "De chavo yo queria ser como Vicente Fernández, cantaba sus canciones en todas las fiestas "
        "del pueblo y hasta me compre un sombrero.",
        set(),
    ),
    (
        "es",
        "Antes de irme trabaje dos años en Tijuana en una maquiladora, puro turno de noche, son "
        "como 2,800 kilometros de aqui. Ahorita estoy en una tortilleria en Iztapalapa.",
        set(),
    ),
    # --- English, with sensitive information -------------------------------------------------
    (
        "en",
        "We crossed through the desert near Sasabe. Three nights walking, and I only had two "
        "gallons of water for the whole thing.",
        {"crossing"},
    ),
    (
        "en",
        "On August 14 we met the coyote at a gas station and he took us across in the back of a "
        "van, under some blankets.",
        {"crossing", "smuggler", "date"},
    ),
    (
        "en",
        "I had a removal order from 2011 that I never knew about. My lawyer only found it when we "
        "filed the papers for my daughter.",
        {"removal"},
    ),
    (
        "en",
        "I did 14 months in county jail for a DUI, and that's what got me into immigration court "
        "in the first place.",
        {"record"},
    ),
    (
        "en",
        "My uncle Teodoro Villaseñor still lives at 1427 W. Cullerton St, Apt 2B, Chicago, and "
        "he kept all my things in his basement.",
        {"names", "address"},
    ),
    (
        "en",
        "If you need to reach me, my cousin's phone is (312) 555-0148, she always picks up.",
        {"phone"},
    ),
    (
        "en",
        "They put me on the bus to Matamoros on December 2nd, 2019, the day after my son's birthday.",
        {"removal", "date"},
    ),
    (
        "en",
        "I worked for Kessler Roofing in Phoenix for almost nine years. The owner knew I had no "
        "papers and he never said anything.",
        {"names"},
    ),
    (
        "en",
        "The pollero tell us to get inside the trunk of the car, me and my sister, and we pass the "
        "checkpoint like that, very hot, I think I was going to die.",
        {"crossing", "smuggler"},
    ),
    (
        "en",
        "ICE picked me up on the morning of March 5 and I was held at the Otero detention center "
        "for seven months.",
        {"record", "date"},
    ),
    (
        "en",
        "Send anything to 3308 Pine Hollow Drive, Garland TX 75042, or call the house at 469-555-0192.",
        {"address", "phone"},
    ),
    (
        "en",
        "My brother Luis was arrested in 2015 and convicted of possession. He is still in prison "
        "in Texas and my mom visits him when she can.",
        {"names", "record"},
    ),
    (
        "en",
        "After I got deported the first time I came back in two weeks later, through a drainage "
        "tunnel under Nogales.",
        {"removal", "crossing"},
    ),
    (
        "en",
        "My father paid eight thousand dollars to a man from Puebla so he would bring me to my "
        "mom in Los Angeles.",
        {"smuggler"},
    ),
    (
        "en",
        "I still remember it was the 23rd of April, because it was my first day at the restaurant "
        "and I broke three plates.",
        {"date"},
    ),
    (
        "en",
        "When we came back we moved in with my mother-in-law, Cerrada de Nogal 17, in colonia "
        "Ajusco, Coyoacán.",
        {"address"},
    ),
    (
        "en",
        "Honestly the person who helped me the most was Mrs. Dolores Whitfield, the lady I cleaned "
        "for. She wrote a letter for my case on June 30. Her number was 713-555-0176 but I don't "
        "know if she still has it.",
        {"names", "date", "phone"},
    ),
    (
        "en",
        "I was in the hielera for three days and then they sent me to a jail in Louisiana, with "
        "the orange uniform and everything, like a real criminal.",
        {"record"},
    ),
    # --- English, close to sensitive but with nothing to flag --------------------------------
    (
        "en",
        "A lot of people think deportation only happens to criminals, but in the shelter I met "
        "teachers, nurses, all kinds of people.",
        set(),
    ),
    (
        "en",
        "I lived in Houston from 2006 to 2018, mostly in construction, and I drove a truck for a while too.",
        set(),
    ),
    (
        "en",
        "It's about 1,200 miles from my village to the border, and the bus ticket was 2,450 pesos back then.",
        set(),
    ),
    (
        "en",
        "My kids are grown now. My oldest is in college studying nursing, and my wife still works "
        "at a bakery downtown.",
        set(),
    ),
    (
        "en",
        "Every morning I had to cross Main Street to get to the bus stop, and I was always scared "
        "of getting hit by a car.",
        set(),
    ),
    (
        "en",
        "We watched Obama on TV talking about DACA in June 2012 and my whole family cried in the "
        "living room.",
        set(),
    ),
]
