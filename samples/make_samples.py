"""Write nerkit's sample corpus: invented news sentences in CoNLL format, plus raw text and a baseline.

Every person, company, town, country, event and product here is made up; nothing is taken from
CoNLL-2003, Reuters, Wikipedia or any other real corpus. Sentences come from news-style templates
(business, sport, politics, science, weather, culture) whose slots are filled from invented name
pools. Each pool is split once: about 40 % of its names never appear in train.conll, and dev/test
draw from that held-out part for roughly 40 % of their entities (the rest reuse names train used), so
a model has to generalise.

Tokens follow CoNLL-2003 / Penn Treebank: punctuation, possessive 's, contractions (do n't), % and $
are split off; abbreviations (Dr., Inc., U.P.A.), hyphenated words and numbers (3-1, 1,250, 4.5)
stay whole. Tags are IOB2 over PER, ORG, LOC and MISC.

Outputs, next to this script:
    train.conll, dev.conll, test.conll   two columns, `token tag`, grouped into -DOCSTART- documents
    raw.txt                              short untokenised news items, one per line
    annotated.jsonl                      the same items with gold character spans, in the shapes tools export
    dev_predictions.conll                `token gold pred` for dev, pred from a train-gazetteer baseline

Run with `python samples/make_samples.py`; the output is the same on every run (fixed seed).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20240611
HERE = Path(__file__).resolve().parent
HELD_OUT_SHARE = 0.4  # share of every name pool kept out of train.conll
UNSEEN_RATE = 0.4  # how often a dev/test entity is drawn from the held-out names
SPLIT_SIZES = {"train": 450, "dev": 120, "test": 120}  # sentences, approximately
DOC_SENTENCES = (4, 10)

Token = tuple[str, str]  # (token, tag)
Sentence = list[Token]


def _names(text: str) -> list[str]:
    """Names separated by semicolons, each already tokenised (tokens separated by single spaces)."""
    return [" ".join(name.split()) for name in text.split(";") if name.strip()]


# ---------------------------------------------------------------------------------------------
# Invented name pools. Names are written tokenised; "Name = ACR" gives an organisation's acronym,
# which later mentions in a document may use instead of the name.
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = _names(
    """Imre; Zoë; Anselm; Brigitta; Casimir; Delphine; Eskil; Fenna; Gideon; Halina; Ilario; Jorunn;
    Liesl; Marek; Nerys; Oskar; Petronella; Quillan; Rosalind; Soren; Tamsin; Ulrike; Vesna; Wendell;
    Xanthe; Yorick; Zora; Aurelio; Bettina; Cormac; Dagny; Emeric; Fiorella; Gwilym; Hedda; Isandro;
    Jessamy; Kaito; Lumi; Mireille; Nikolai; Ottilie; Pascoe; Ragna; Sunniva; Tiberius; Ugo; Valka;
    Wilhelmina; Yannick; Ansgar; Bronwen; Ciaran; Dorota; Eero; Farida; Göran; Henrike; Ines; Joaquim;
    Kristof; Lavinia; Mathis; Noor; Orla; Piet; Renske; Sélène; Teodor; Aino"""
)

SURNAMES = _names(
    """Voskuijlen; Ferreira-Lund; Aldermoor; Brisgaard; Castellane; Dunmerrow; Eskeland; Fairweald;
    Grunholt; Hesketh-Vane; Ilvermark; Kallistrup; Lindqvame; Morvath; Nyborrow; Orsolini; Pelletrand;
    Rasmark; Sandvoort; Tregallis; Ulvenhaug; Varnissen; Wexcombe; Yardleigh; Zelinskaya-Holt;
    Abernathen; Brackwater; Corrigal; Dallowen; Elmqvast; Fenwright; Gallistro; Harrowell; Iversdahl;
    Jorvik-Sand; Kettleby; Lorimont; Maelbeck; Northcliffe-Ros; Oyelaran-Brook; Prestwold; Quarrender;
    Rookwell; Silvermane; Thackerby; Umberfield; Vantongeren; Wolstanholm; Brännvik; Østmark;
    Müllerbrand; Çelikdere; Halvorsrud; Kastellanos; Lindgaard; Marchetti-Vos; Ravenscroft-Ila;
    Szemerédi-Holm; Tavernier; Zubiaurre; van der Molst; de Castellar; ter Haaf; Achterberg; Bellweather;
    Cruickmore; Dravenhall; Estergaard; Fallowby; Greymantle; Hollingrake; Kerrowan; Mistlewood;
    Pennimore; Quistgaard; Stavenhagen; Trewhella; Wintersloe; Yelverstone; Ashgrove-Kent"""
)

# Countries with their adjectives (tagged MISC, like nationalities).
COUNTRIES = {
    "Veldoria": "Veldorian",
    "Istrane": "Istranian",
    "Moravelle": "Moravellan",
    "Karthenia": "Karthenian",
    "Norlund": "Norlundic",
    "Estravia": "Estravian",
    "Quelmark": "Quelmarkish",
    "Baltivia": "Baltivian",
    "Ostrenia": "Ostrenian",
    "Pellagor": "Pellagorean",
    "Tarsova": "Tarsovan",
    "Ferrania": "Ferranian",
    "Callisne": "Callisnese",
    "Drevenland": "Drevenish",
    "Ulmara": "Ulmaran",
    "Vessaly": "Vessalian",
    "Arkenmoor": "Arkenmoorish",
    "Solvania": "Solvanian",
    "Tiberra": "Tiberran",
    "Gallowmark": "Gallowmarker",
}

# Each pool: the slot name used in templates, the entity type, and the names.
POOLS: dict[str, tuple[str, str]] = {
    "TOWN": (
        "LOC",
        """Port Halvery; Östervik; Brannock; Kelderwick; Sanmorro; Vell Harbour; Ardmuir; Tressingham;
        Lowenmark; Castell Dour; Marrowby; Quenfield; Ruddock Bay; St. Aubrel; New Carrow; Upper Ellisford;
        Kingsford-upon-Leam; Harrowgate; Selby Cross; Dunvarra; Ellerholm; Fossbridge; Grantmoor; Hallenby;
        Istrow; Jardinelle; Karsby; Lindenhaven; Mirrow; Norrvall; Oakenshaw; Pellbury; Quarrington;
        Rostavik; Saltmere; Tannerby; Ulverness; Varrowdale; Westmarch; Yarrowfield; Zellborg; Ashcombe;
        Brindlemoor; Corrieholt; Dornaby; Eastwold; Fairhaven Quay; Glenmorrow; Hythmoor; Kelso Vale;
        Långvik; Montreval; Nørreby; Orrinford; Port Ivesy; Ravensholm; Little Ashby on Sea; Tallowmere;
        Valdemora; Wyncliffe; Aberlune; Castelbrac; Drummonde; Fenhollow; Gravenstad; San Teodoro Alto""",
    ),
    "COUNTRY": ("LOC", "; ".join([*COUNTRIES, "North Vessaly", "Isle of Brannow", "Tamsk"])),
    # States that read with "the" in front: "exports to the United Provinces of Arle".
    "FEDERATION": (
        "LOC",
        """United Provinces of Arle = U.P.A.; Free State of Orrin = F.S.O.; Federated Isles of Corra = F.I.C.;
        Republic of Tamsk; Northern Commonwealth; Union of Selvan States""",
    ),
    "REGION": (
        "LOC",
        """Brannock Valley; River Sellen; Gulf of Ostrenia; Harrowmere Hills; Kessel Plateau; Lake Orrin;
        Mount Ardane; Vardal Strait; Greywater Coast; Eastern Marches; Sellen Delta; Carrow Peninsula;
        Frostfell Range; Moravelle Lowlands; Amberlake District; Upper Sellen Valley; Tamsk Basin;
        Ulver Fjord""",
    ),
    "NAT": ("MISC", "; ".join(COUNTRIES.values())),
    "COMPANY": (
        "ORG",
        """Kestrel Dynamics; Corvane Systems Inc.; Orlin Group; Tavish & Crane; Vintry Holdings;
        Quenfield Steel; Sablewood Timber Ltd; Greyhaven Energy; Pellucid Optics; Marrowby Brewing Co.;
        Tarsova Air; Lumenfall Media; Ironvale Mining; Selkie Telecom; Harrowgate Logistics;
        Caskwell Distillers; Fennick & Daughters; Rookery Software; Cobaltine AG; Helder-Stroom NV;
        Verrano SA; Aldous Foods plc; Marisol Shipping; Thistledown Retail; Quillfeather Paper;
        Gildersleeve Bros.; Hollowpine Furniture; Kelpie Wind Corp.; Lanternfish Games; Morrowind Textiles;
        Northlight Semiconductor; Oxbow Cement; Umbra Solar; Vireo Airlines; Wrenfield Dairies; Zephyrine;
        Bluefen Water; Dunmore Glass; Everlight Batteries; Foxglove Cosmetics;
        Karthenian Power Company = KPC; Ostrenian Shipping Line = OSL""",
    ),
    "FINANCE": (
        "ORG",
        """Ostrum Bank; Halvery Mutual; Alderbank; Silverbirch Capital; Pemberley-Ash Partners;
        Brightwater Insurance; Callisne Investment Fund = CIF; Quarry Hill Securities; Meridian & Lowe;
        First Bank of Tarsova = FBT; Kettleby Brokers; Norrvall Savings""",
    ),
    "CARMAKER": (
        "ORG",
        """Nordmark Motor Works = NMW; Redcap Motors; Tarsova Autos; Brisk Motor Co.; Halden-Ruhe AG;
        Vellacar; Sunder Vehicles""",
    ),
    "PHARMA": (
        "ORG",
        """Noctua Pharma; Yewtree Pharmaceuticals; Ardent Biologics; Meridel Therapeutics; Kastell Labs;
        Solvane Chemicals; Bellflower Health""",
    ),
    "AEROSPACE": (
        "ORG",
        "Drakemoor Aerospace; Skylark Orbital; Orbitra Systems; Kestrel Space Works; Halcyon Launch Co.",
    ),
    "TRANSPORT": (
        "ORG",
        """Brannock Valley Rail Authority = BVRA; Ardmuir Port Trust = APT; Veldoria Postal Service = VPS;
        Northern Ferry Company; Calder Rail Company; Coastal Freight Board = CFB;
        Istrow Transit Authority = ITA""",
    ),
    "UTILITY": (
        "ORG",
        """Northern Grid Operator = NGX; Greywater Water Board = GWB; Ostrenian Power Networks = OPN;
        Valley Electricity Board; Selkie Grid Company; Kelderwick Gas & Light Company""",
    ),
    "UNION": (
        "ORG",
        """Tarsova Union of Dockworkers = TUD; General Transport Union = GTU; Union of Northern Miners = UNM;
        Teachers ' Federation; Rail and Maritime Guild = RMG""",
    ),
    "SPACE": (
        "ORG",
        """Moravelle Space Agency = MSA; Continental Space Office = CSO; Veldorian Institute of Rocketry = VIR;
        Northern Orbital Council""",
    ),
    "SPORTBODY": (
        "ORG",
        """Vessaly Football Association = VFA; Northern Rowing Federation = NRF; Istrane Tennis Union = ITU;
        Continental Athletics Board = CAB; Coastal League""",
    ),
    "CLUB": (
        "ORG",
        """Port Halvery United; Kelderwick Rovers; Athletic Sanmorro; Sporting Östervik; Brannock City;
        Ardmuir Thistle; Real Castell Dour; Tressingham Albion; FC Lowenmark; Marrowby Wanderers;
        Quenfield Town; Vell Harbour Athletic; Dunvarra Celtic; Ellerholm Rangers; Fossbridge Harriers;
        Grantmoor Olympic; Hallenby Foxes; Rostavik Sailors; Saltmere Blues; Westmarch Borough;
        Zellborg Eagles; Norrvall Lions; Pellbury Rowing Club; Glenmorrow Shinty Club""",
    ),
    "PARTY": (
        "ORG",
        """Veldorian Labour Front = VLF; Green Alliance; People 's Reform Party = PRP; National Liberal Union;
        Coastal Farmers ' League; Social Democrats of Istrane; Civic Renewal; Party of the North;
        Christian Union of Moravelle; Free Voters; Radical Centre; Workers ' Movement""",
    ),
    "STATEBODY": (
        "ORG",
        """Ministry of Coastal Affairs; Interior Ministry; Federal Audit Court; Electoral Commission;
        Supreme Court of Ferrania; Parliament; Senate; Council of Provinces; Foreign Ministry;
        Ombudsman 's Office; Constitutional Court; Ministry of Housing""",
    ),
    "ECONBODY": (
        "ORG",
        """Competition Board; Bank of Veldoria; National Statistics Office = NSO; Finance Ministry;
        Istrane Reserve Bank = IRB; Federation of Quelmark Industries = FQI; Trade Ministry;
        Securities Commission; Central Bank of Estravia""",
    ),
    "WEATHERBODY": (
        "ORG",
        """National Weather Office; Office for Seas and Rivers; Coastal Met Service; Port Safety Agency;
        Karthenian Meteorological Institute = KMI; Flood Warning Centre""",
    ),
    "QUAKEBODY": (
        "ORG",
        "Karthenian Geological Survey = KGS; Seismic Observatory of Tarsova; Northern Seismology Network",
    ),
    "HEALTHBODY": (
        "ORG",
        """Ministry of Health; Medicines Board of Tarsova; Health Standards Agency = HSA;
        Quelmark Drug Council; Continental Medicines Office""",
    ),
    "UNIVERSITY": (
        "ORG",
        """University of Kelderwick; Ardmuir Institute of Technology; Lowenmark Observatory;
        Sanmorro Polytechnic; University of Östervik; Royal Academy of Sciences; Tressingham College of Medicine;
        Institute for Marine Studies; Quelmark Medical School; Harrowmere Research Centre;
        University of Vell Harbour; Pellagor Institute; Brannock School of Mines""",
    ),
    "MEDIA": (
        "ORG",
        """Halvery Courier; Morning Lantern; Kelder Daily News; Östervik Tidende; Radio Sanmorro;
        Northern Broadcasting Service = NBS; Quelmark Herald; Tarsova Times; Castell Review; Vessaly Today""",
    ),
    "JOURNAL": (
        "ORG",
        """Journal of Applied Tides; Northern Medical Review; Annals of Polar Chemistry;
        Kelderwick Science Letters; Quarterly of Marine Biology""",
    ),
    "CULTUREORG": (
        "ORG",
        """Port Halvery Symphony Orchestra; Halvery Museum of Art; Ardmuir Chamber Players;
        National Theatre of Estravia; Kelderwick Opera; Sanmorro Film Institute; Lowenmark Philharmonic;
        Museum of the Northern Sea; Glass Harbour Gallery; Tressingham Ballet""",
    ),
    "SPORTEVENT": (
        "MISC",
        """Halvery Cup; Vessaly Open; Ostrenian Grand Prix; Tarsova Marathon; Continental Rowing Series;
        Kelderwick Classic; Northern Rally; Inter-Provincial Shield; Ardmuir Regatta; Östervik Winter Games;
        Brannock Valley Relay; Quelmark Masters; Coastal League Cup; Grand Tour of Estravia""",
    ),
    "SUMMIT": (
        "MISC",
        """Northern Sea Summit; Tarsova Conference; Council of Ten; Ferrania Forum; Spring Trade Talks;
        Lowenmark Climate Meeting; Vardal Strait Conference""",
    ),
    "TREATY": ("MISC", "Lowenmark Accord; Vardal Strait Treaty; Tarsova Protocol; Northern Fisheries Pact"),
    "FESTIVAL": (
        "MISC",
        """Winter Lantern Festival; Sanmorro Film Festival; Lowenmark Book Fair; Festival of Tides;
        Harrowmere Folk Week; Castell Dour Biennale; Midsummer Jazz Nights; Östervik Light Week""",
    ),
    "PRODUCT": (
        "MISC",
        """Kestrel K9; Corvane Atlas; Selkie Wave 3; Lumen X2; Brightline 400; Vireo Glide; Umbra Roof;
        Everlight Cell; Atlas Mini; Tallow One; Lanternfish Quest""",
    ),
    "CAR": ("MISC", "Redcap Sprite; Vellacar Nova; Tarsova T4; Brisk Ranger; Sunder E-Line; Halden Meridian"),
    "DRUG": ("MISC", "Noctavir; Pellumab; Sereline; Ostravax; Quelmidone; Tramocel; Ardivex"),
    "AWARD": (
        "MISC",
        """Orlin Prize; Golden Quill Award; Vessaly Medal for Science; Aldermoor Prize for Fiction;
        Silver Lantern; Karthenian Film Award; Grand Prix of the North; Tressingham Medal""",
    ),
    "WORK": (
        "MISC",
        """Salt and Ember; The Glass Orchard; Nine Winters in Ardmuir; Lanterns; A House Made of Rain;
        The Ferryman 's Daughter; Quiet Harbour; Blue Hour; Letters from Östervik; The Long Field;
        Iron and Honey; Small Gods of Marrowby""",
    ),
}


# ---------------------------------------------------------------------------------------------
# Templates: tokenised text, one space between tokens. {SLOT} is an entity or a filler; {SLOT+}
# introduces an organisation with its acronym, "Name ( ACR )"; {N}-hour glues a filler to text. A
# template starting with "^" is a headline and is written in capitals.
# ---------------------------------------------------------------------------------------------

HEADLINES: dict[str, list[str]] = {
    "business": [
        "^{COMPANY} PROFIT UP {PCT} PCT IN {QUARTER} QUARTER .",
        "^{COMPANY} TO BUY {COMPANY} FOR $ {DEC} BILLION .",
        "^{NAT} SHARES CLOSE LOWER , BANKS WEIGH",
    ],
    "sport": [
        "^FOOTBALL - {CLUB} BEAT {CLUB} TO REACH CUP FINAL .",
        "^TENNIS - {PER} THROUGH TO {SPORTEVENT} QUARTER-FINALS .",
        "^ROWING - {NAT} CREW WIN IN {TOWN}",
    ],
    "politics": [
        "^{COUNTRY} , {COUNTRY} RESUME FISHING TALKS .",
        "^{PARTY} WINS {TOWN} BY-ELECTION .",
        "^{NAT} MINISTER QUITS OVER HOUSING ROW",
    ],
    "science": [
        "^{UNIVERSITY} TEAM FINDS SALT CAN STORE SOLAR HEAT .",
        "^QUAKE SHAKES {REGION} , NO DAMAGE REPORTED",
    ],
    "weather": [
        "^SNOW CLOSES ROADS IN {REGION} .",
        "^STORMS CUT POWER TO {NUM} HOMES IN {COUNTRY}",
    ],
    "culture": [
        "^{PER} WINS {AWARD} .",
        "^{FESTIVAL} OPENS IN {TOWN}",
    ],
}

DATELINE = "{DATELINE} {ISODATE}"

TEMPLATES: dict[str, list[str]] = {
    "business": [
        "{COMPANY} said on {DAY} that net profit rose {PCT} % to $ {DEC} million in the {QUARTER} quarter .",
        "Shares in {COMPANY} fell {PCT} percent to {DEC} {CURRENCY} in early trading in {TOWN} .",
        "{PER} , chief executive of {COMPANY} , told reporters the company would cut {JOBS} jobs by {FUTUREYEAR} .",
        "{COMPANY} agreed to buy {COMPANY} for $ {DEC} billion , the companies said in a joint statement .",
        "The deal still needs approval from the {ECONBODY} in {COUNTRY} .",
        '" We do n\'t expect demand to recover before {MONTH} , " said {PER} , an analyst at {FINANCE} .',
        "{NAT} carmaker {CARMAKER} recalled {NUM} {CAR} cars over a faulty brake sensor .",
        "{COMPANY} 's new {PRODUCT} goes on sale in {COUNTRY} on {MON} {DAYNUM} .",
        "Analysts polled by {MEDIA} had expected a loss of {N} cents a share .",
        "The main {NAT} index closed {PCT} % higher at {NUM} points .",
        "The {TRANSPORT+} said freight volumes fell {PCT} % in {MONTH} .",
        "Inflation in {COUNTRY} slowed to {PCT} % in {MONTH} from {PCT} % a month earlier , the {ECONBODY} said .",
        "{COMPANY} will open a factory outside {TOWN} , creating about {JOBS} jobs .",
        "It 's the third profit warning from {COMPANY} this year .",
        "Members of the {UNION+} plan a {N}-hour strike at the {TRANSPORT} from {DAY} .",
        "{COMPANY} , based in {TOWN} , employs about {JOBS} people .",
        "Exports to the {FEDERATION+} rose {PCT} % in the {QUARTER} quarter , the {ECONBODY} said .",
    ],
    "sport": [
        "{TEAM} {GOALS} {TEAM} {GOALS}",
        "{PER} scored twice as {CLUB} beat {CLUB} {SCORE} in {TOWN} on {DAY} .",
        "{RANK} {PER} ( {COUNTRY} ) {RACETIME}",
        '{CLUB} coach {PER} said his side had " thrown it away " in the second half .',
        "{PER} won the {SPORTEVENT} for a second time , finishing {SECS} seconds ahead of {PER} .",
        "The {SPORTEVENT} will be held in {TOWN} from {MON} {DAYSPAN} .",
        "{NAT} champion {PER} pulled out of the {SPORTEVENT} with a knee injury .",
        "{TEAM} are top of the table with {POINTS} points , two ahead of {TEAM} .",
        "\" They 're a very good side , but we ca n't keep giving goals away , \" {SURNAME} said .",
        "{PER} , who joined {CLUB} from {CLUB} in {MONTH} , has signed a {YEARS} contract .",
        "Attendance : {CROWD}",
        "{PER} ( {CLUB} ) was sent off after {MINUTE} minutes .",
        "Rain delayed the start of play at {TOWN} by two hours .",
        "{COUNTRY} beat {COUNTRY} {SCORE} in the semi-final of the {SPORTEVENT} .",
        "Scorers : {SURNAME} {MINUTE} , {SURNAME} {MINUTE} pen",
        "The {SPORTBODY+} fined {CLUB} {NUM} {CURRENCY} for crowd trouble .",
        "{PER} beat {PER} {SET} {SET} to reach the final in {TOWN} .",
    ],
    "politics": [
        "Prime Minister {PER} of {COUNTRY} arrived in {TOWN} on {DAY} for two days of talks .",
        "The {PARTY+} won {SEATS} seats in {MONTH} 's election , official results showed .",
        "{PER} , leader of the opposition {PARTY} , called for an inquiry .",
        '" This is not the end of the matter , " {PER} told {MEDIA} .',
        "Talks between {COUNTRY} and {COUNTRY} on fishing rights broke down in {TOWN} .",
        "The {STATEBODY} said it would publish its report on {MON} {DAYNUM} .",
        "Sen. {PER} ( {PARTY} ) voted against the budget .",
        "Voters in {REGION} will decide on {MON} {DAYNUM} whether to leave the federation .",
        "{NAT} Foreign Minister {PER} met her {NAT} counterpart , {PER} , at the {SUMMIT} .",
        "Turnout was {TURNOUT} % , the lowest since {YEAR} .",
        "Gov. {PER} has until {DAY} to sign or veto the bill .",
        "Police in {TOWN} said {N} people were detained after a protest outside the {STATEBODY} .",
        "{COUNTRY} and {COUNTRY} signed the {TREATY} in {TOWN} on {DAY} .",
        "Mr. {SURNAME} denied any wrongdoing .",
        "The {PARTY} , which has governed {COUNTRY} since {YEAR} , is polling at {N} % .",
        "{NAT} observers will monitor the vote in the {FEDERATION+} next month .",
    ],
    "science": [
        "Researchers at the {UNIVERSITY} have found a way to store solar heat in salt for up to {N} days .",
        'Dr. {PER} , who led the study , said the results were " surprising but robust " .',
        "The findings were published on {DAY} in the {JOURNAL} .",
        "{PHARMA} said trials of its drug {DRUG} cut hospital stays by {N} % .",
        "Prof. {PER} of the {UNIVERSITY} and {PER} of the {UNIVERSITY} shared the {AWARD} .",
        "The probe , built by {AEROSPACE} for the {SPACE+} , will launch from {TOWN} in {FUTUREYEAR} .",
        "A magnitude {MAGNITUDE} earthquake struck {DISTANCE} east of {TOWN} on {DAY} , the {QUAKEBODY} said .",
        "Scientists say {REGION} lost {PCT} % of its ice cover between {YEARSPAN} .",
        "The {UNIVERSITY} team sequenced the genome of the {NAT} mountain hare .",
        '" We \'ve only scratched the surface , " said {PER} .',
        "The {HEALTHBODY} has approved {DRUG} for use in children over {SMALL} .",
        "About {NUM} volunteers in {COUNTRY} and {COUNTRY} took part in the trial .",
    ],
    "weather": [
        "Heavy rain is forecast for {REGION} and {TOWN} on {DAY} .",
        "Temperatures in {TOWN} fell to minus {SMALL} degrees Celsius overnight , the {WEATHERBODY} said .",
        "Flooding closed the road between {TOWN} and {TOWN} for a third day .",
        "Winds of up to {WIND} km per hour were recorded at {TOWN} .",
        "It will be dry and sunny for most of the week , with highs of {N} degrees .",
        "Ferries between {TOWN} and {TOWN} were cancelled because of fog .",
        "Snow is expected above {ALTITUDE} metres in {REGION} .",
        "{TOWN} recorded {DEC} mm of rain in {N} hours , a record for {MONTH} .",
        "The {UTILITY+} said {NUM} homes in {REGION} were without power .",
        "Forecasters expect the cold spell to last until at least {DAY} .",
    ],
    "culture": [
        '{PER} \'s new novel , " {WORK} " , tops the best-seller list in {COUNTRY} this week .',
        "The {FESTIVAL} opens in {TOWN} on {DAY} with a concert by the {CULTUREORG} .",
        '{NAT} director {PER} won the {AWARD} for " {WORK} " .',
        "The exhibition at the {CULTUREORG} runs until {MON} {DAYNUM} .",
        '{PER} and {PER} will star in a stage version of " {WORK} " in {TOWN} .',
        "Tickets for the {FESTIVAL} sold out in {N} minutes .",
        "The band , formed in {TOWN} in {YEAR} , release their {ORDINAL} album in {MONTH} .",
        "More than {NUM} people visited the {FESTIVAL} last year , organisers said .",
        "{PER} , {AGE} , has sung with the {CULTUREORG} since {YEAR} .",
        'Critics at {MEDIA} called the film " a quiet triumph " .',
        "The well-known {NAT} painter {PER} died in {TOWN} on {DAY} aged {OLDAGE} .",
    ],
    "general": [
        "Trading was thin ahead of the long weekend .",
        "No one was hurt .",
        "The figures were not adjusted for inflation .",
        '" It \'s too early to say , " a spokesman said .',
        "Further details were not immediately available .",
        "Contact : {PER} , {MEDIA} , {TOWN}",
        "{N} people were taken to hospital in {TOWN} , police said .",
        "The company , which employs about {NUM} people , did not comment .",
        "They 're expected to decide by the end of {MONTH} .",
        "What happens next is anyone 's guess .",
        "( $ 1 = {DEC} {CURRENCY} )",
        "Officials said they wo n't comment on the matter until {DAY} .",
    ],
}

DOMAINS = ["business", "sport", "politics", "science", "weather", "culture"]


# ---------------------------------------------------------------------------------------------
# Fillers for the non-entity slots: each returns tokens, tagged O.
# ---------------------------------------------------------------------------------------------

WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()
MONTHS_SHORT = "Jan. Feb. March April May June July Aug. Sept. Oct. Nov. Dec.".split()


def _number(low: int, high: int) -> Callable[[random.Random], list[str]]:
    """A filler for a whole number in [low, high], written with thousands commas."""
    return lambda rng: [f"{rng.randint(low, high):,}"]


def _year(low: int, high: int) -> Callable[[random.Random], list[str]]:
    """A filler for a year in [low, high]."""
    return lambda rng: [str(rng.randint(low, high))]


def _decimal(low: float, high: float) -> Callable[[random.Random], list[str]]:
    """A filler for a number with one decimal in [low, high]."""
    return lambda rng: [f"{rng.randint(round(low * 10), round(high * 10)) / 10:.1f}"]


def _race_time(rng: random.Random) -> list[str]:
    if rng.random() < 0.5:
        return [f"{rng.randint(2, 3)}:{rng.randint(0, 59):02d}.{rng.randint(0, 99):02d}"]
    return [f"{rng.randint(9, 11)}.{rng.randint(0, 99):02d}"]


def _distance(rng: random.Random) -> list[str]:
    km = rng.randint(5, 120)
    return [str(km), "km", "(", str(round(km * 0.621)), "miles", ")"]


def _year_span(rng: random.Random) -> list[str]:
    start = rng.randint(1975, 2010)
    return [str(start), "and", str(rng.randint(start + 5, 2028))]


def _seats(rng: random.Random) -> list[str]:
    total = rng.choice([80, 101, 120, 150, 212])
    return [str(rng.randint(total // 5, total * 3 // 5)), "of", "the", str(total)]


def _tennis_set(rng: random.Random) -> list[str]:
    return [rng.choice(["6-3", "6-4", "7-5", "6-2", "7-6", "6-1"])]


def _day_span(rng: random.Random) -> list[str]:
    start = rng.randint(1, 20)
    return [str(start), "to", str(start + rng.randint(2, 8))]


FILLERS: dict[str, Callable[[random.Random], list[str]]] = {
    "N": _number(2, 40),
    "SMALL": _number(2, 12),
    "NUM": _number(1_200, 60_000),
    "JOBS": _number(150, 2_400),
    "CROWD": _number(3_500, 48_000),
    "ALTITUDE": lambda rng: [f"{rng.randint(4, 24) * 100:,}"],
    "WIND": _number(60, 160),
    "GOALS": _number(0, 4),
    "MINUTE": _number(3, 89),
    "POINTS": _number(12, 71),
    "AGE": _number(24, 71),
    "OLDAGE": _number(68, 97),
    "DEC": _decimal(1.1, 48.0),
    "PCT": _decimal(0.2, 9.8),
    "SECS": _decimal(0.3, 9.9),
    "TURNOUT": _decimal(38.0, 81.0),
    "MAGNITUDE": _decimal(3.1, 7.4),
    "YEAR": _year(1975, 2028),
    "FUTUREYEAR": _year(2031, 2036),
    "YEARSPAN": _year_span,
    "DISTANCE": _distance,
    "SEATS": _seats,
    "SET": _tennis_set,
    "DAYSPAN": _day_span,
    "DAY": lambda rng: [rng.choice(WEEKDAYS)],
    "MONTH": lambda rng: [rng.choice(MONTHS)],
    "MON": lambda rng: [rng.choice(MONTHS_SHORT)],
    "DAYNUM": _number(1, 28),
    "SCORE": lambda rng: [f"{rng.randint(1, 4)}-{rng.randint(0, 3)}"],
    "RANK": lambda rng: [f"{rng.randint(1, 8)}."],
    "RACETIME": _race_time,
    "QUARTER": lambda rng: [rng.choice(["first", "second", "third", "fourth"])],
    "ORDINAL": lambda rng: [rng.choice(["second", "third", "fourth", "fifth"])],
    "YEARS": lambda rng: [rng.choice(["two-year", "three-year", "four-year", "one-year"])],
    "CURRENCY": lambda rng: [rng.choice(["crowns", "florins", "marks", "thalers"])],
    "ISODATE": lambda rng: [f"{rng.randint(2029, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"],
}


# ---------------------------------------------------------------------------------------------
# Entities and their pools
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """A named entity as tokens, plus the shorter form used when a document mentions it again."""

    tokens: tuple[str, ...]
    short: tuple[str, ...]


@dataclass
class Pool:
    """One pool of invented names, split into names train may use and names kept out of train."""

    label: str
    seen: list[Entity]
    unseen: list[Entity]


def _entities(text: str) -> list[Entity]:
    """Entities from "Name; Name = ACR; ..." text."""
    entities = []
    for name in _names(text):
        full, _, acronym = name.partition(" = ")
        tokens = tuple(full.split())
        entities.append(Entity(tokens, (acronym,) if acronym else tokens))
    return entities


def _split(rng: random.Random, label: str, entities: list[Entity]) -> Pool:
    """Shuffle `entities` and keep HELD_OUT_SHARE of them out of the training split."""
    shuffled = list(entities)
    rng.shuffle(shuffled)
    cut = round(len(shuffled) * (1 - HELD_OUT_SHARE))
    return Pool(label, shuffled[:cut], shuffled[cut:])


def build_pools(rng: random.Random) -> dict[str, Pool]:
    """The entity pools by slot name, each split into seen (train) and held-out names."""
    pools = {"SURNAME": _split(rng, "PER", _entities("; ".join(SURNAMES)))}
    for slot, (label, text) in POOLS.items():
        pools[slot] = _split(rng, label, _entities(text))
    return pools


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


@dataclass
class Generator:
    """Fills templates for one split.

    Train (`known` is None) draws only from the seen part of each pool and records what it used in
    `created`. Dev and test (`known` holds train's `created`) draw a fresh name from the held-out part
    with probability `unseen_rate`, and otherwise reuse a name that train used.
    """

    rng: random.Random
    pools: dict[str, Pool]
    unseen_rate: float
    known: dict[str, list[Entity]] | None = None
    created: dict[str, list[Entity]] = field(default_factory=dict)  # fresh names, by pool key
    cast: dict[str, list[Entity]] = field(default_factory=dict)  # names in the current document
    subjects: list[str] = field(default_factory=list)  # shuffled domains still to write about

    def fresh(self, key: str) -> Entity:
        """A name not taken from the current document: from train's names or from a pool."""
        unseen = self.rng.random() < self.unseen_rate
        if not unseen and self.known and self.known.get(key):
            return self.rng.choice(self.known[key])
        if key == "PERSON":
            surname = self.from_pool("SURNAME", unseen).tokens
            first = [self.rng.choice(FIRST_NAMES)]
            if self.rng.random() < 0.08:
                first.append(self.rng.choice("ABCDEFGHJKLMNPRSTW") + ".")
            entity = Entity((*first, *surname), surname)
        else:
            entity = self.from_pool(key, unseen)
        self.created.setdefault(key, []).append(entity)
        return entity

    def from_pool(self, key: str, unseen: bool) -> Entity:
        """A random name from the held-out or the seen part of a pool."""
        pool = self.pools[key]
        return self.rng.choice(pool.unseen if unseen else pool.seen)

    def entity(
        self, slot: str, used: list[tuple[str, ...]], capitals: bool
    ) -> tuple[str, Entity, tuple[str, ...]]:
        """The type and tokens for an entity slot, reusing names from earlier in the document now and then.

        `capitals` marks a headline or dateline: there, names with abbreviations (Corp., St.) are avoided.
        """
        key = {"PER": "PERSON", "DATELINE": "TOWN", "TEAM": "CLUB"}.get(slot, slot)
        label = "PER" if key == "PERSON" else self.pools[key].label
        if slot == "TEAM" and self.rng.random() < 0.4:  # a town standing for its club, as in results
            key, label = "TOWN", "ORG"
        cast_key = "PERSON" if slot == "SURNAME" else key
        for _ in range(50):
            earlier = self.cast.get(cast_key, [])
            if earlier and slot != "DATELINE" and self.rng.random() < 0.3:
                entity = self.rng.choice(earlier)
                tokens = entity.short if self.rng.random() < 0.7 else entity.tokens
            else:
                entity = self.fresh(key)
                tokens = entity.short if slot == "SURNAME" else entity.tokens
            shown = tuple(token.upper() for token in tokens) if capitals else tokens
            if shown not in used and not (capitals and any(token.endswith(".") for token in tokens)):
                break
        self.cast.setdefault(cast_key, []).append(entity)
        if capitals:
            tokens = tuple(token.upper() for token in tokens)
        return label, entity, tokens

    def fill(self, template: str) -> Sentence:
        """One sentence from `template`, as (token, tag) pairs."""
        capitals = template.startswith("^") or template == DATELINE
        sentence: Sentence = []
        used: list[tuple[str, ...]] = []
        for piece in template.lstrip("^").split(" "):
            if piece.startswith("{") and piece.endswith("}"):
                slot = piece[1:-1]
                if slot in FILLERS:
                    sentence.extend((token, "O") for token in FILLERS[slot](self.rng))
                    continue
                label, entity, tokens = self.entity(slot.rstrip("+"), used, capitals)
                used.append(tokens)
                sentence += _tagged(tokens, label)
                if slot.endswith("+") and tokens == entity.tokens != entity.short:
                    sentence += [("(", "O"), *_tagged(entity.short, label), (")", "O")]
            elif "{" in piece:  # a filler glued to text, like {N}-hour
                slot, rest = piece[1:].split("}", 1)
                sentence.append((FILLERS[slot](self.rng)[0] + rest, "O"))
            else:
                sentence.append((piece, "O"))
        if capitals:
            sentence = [(token.upper(), tag) for token, tag in sentence]
        return sentence

    def document(self) -> list[Sentence]:
        """A document of 4 to 10 sentences on one subject, sometimes under a headline and dateline."""
        self.cast = {}
        if not self.subjects:  # deal the domains out evenly, in a random order
            self.subjects = self.rng.sample(DOMAINS, len(DOMAINS))
        domain = self.subjects.pop()
        size = self.rng.randint(*DOC_SENTENCES)
        sentences: list[Sentence] = []
        if self.rng.random() < 0.55:
            sentences.append(self.fill(self.rng.choice(HEADLINES[domain])))
            if self.rng.random() < 0.6:
                sentences.append(self.fill(DATELINE))
        topical = list(TEMPLATES[domain])
        general = list(TEMPLATES["general"])
        while len(sentences) < size:
            source = general if (self.rng.random() < 0.15 and general) or not topical else topical
            template = source.pop(self.rng.randrange(len(source)))
            sentences.append(self.fill(template))
        return sentences


def _tagged(tokens: tuple[str, ...], label: str) -> Sentence:
    """IOB2 tags for one entity."""
    return [(token, ("B-" if i == 0 else "I-") + label) for i, token in enumerate(tokens)]


def generate_split(generator: Generator, sentences: int) -> list[list[Sentence]]:
    """Documents for one split, until it holds about `sentences` sentences."""
    documents: list[list[Sentence]] = []
    total = 0
    while total < sentences:
        document = generator.document()
        documents.append(document)
        total += len(document)
    return documents


# ---------------------------------------------------------------------------------------------
# Writing, and the gazetteer baseline
# ---------------------------------------------------------------------------------------------


def format_documents(documents: Sequence[Sequence[Sequence[tuple[str, ...]]]], docstart: str) -> str:
    """CoNLL text: a -DOCSTART- line and a blank line per document, a blank line after every sentence."""
    lines: list[str] = []
    for document in documents:
        lines += [docstart, ""]
        for sentence in document:
            lines += [" ".join(row) for row in sentence]
            lines.append("")
    return "\n".join(lines) + "\n"


def read_entities(path: Path) -> list[tuple[tuple[str, ...], str]]:
    """Every entity (tokens, type) in a two-column IOB2 CoNLL file, in order."""
    entities: list[tuple[tuple[str, ...], str]] = []
    current: list[str] = []
    label = ""
    for line in [*path.read_text(encoding="utf-8").split("\n"), ""]:
        fields = line.split()
        tag = fields[1] if len(fields) == 2 and fields[0] != "-DOCSTART-" else "O"
        if current and not (tag.startswith("I-") and tag[2:] == label):
            entities.append((tuple(current), label))
            current = []
        if tag.startswith("B-"):
            current, label = [fields[0]], tag[2:]
        elif tag.startswith("I-"):
            current.append(fields[0])
    return entities


def build_gazetteer(path: Path) -> dict[tuple[str, ...], str]:
    """Each entity string in `path` with the type it most often has there (ties: alphabetical)."""
    counts: dict[tuple[str, ...], Counter[str]] = {}
    for tokens, label in read_entities(path):
        counts.setdefault(tokens, Counter())[label] += 1
    return {tokens: min(c, key=lambda label: (-c[label], label)) for tokens, c in counts.items()}


def gazetteer_tags(tokens: list[str], gazetteer: dict[tuple[str, ...], str]) -> list[str]:
    """Tag `tokens` by matching gazetteer entries, longest first, left to right; the rest is O."""
    longest = max(len(entry) for entry in gazetteer)
    tags = ["O"] * len(tokens)
    i = 0
    while i < len(tokens):
        for length in range(min(longest, len(tokens) - i), 0, -1):
            label = gazetteer.get(tuple(tokens[i : i + length]))
            if label:
                tags[i : i + length] = [f"B-{label}"] + [f"I-{label}"] * (length - 1)
                i += length
                break
        else:
            i += 1
    return tags


RAW_TEXT = [
    "Corvane Systems Inc. said on Tuesday that quarterly profit rose 4.5% to $20 million, helped by "
    "strong sales of its Atlas tablet in Veldoria.",
    "Dr. Imre Voskuijlen of the University of Kelderwick said the Brannock Valley Rail Authority (BVRA) "
    "won't reopen the line before March. \"We don't have the engineers,\" she said.",
    "Port Halvery's Zoë Ferreira-Lund won the Vessaly Open on Sunday, beating Göran Maelbeck 6-3 6-4 in "
    "the final. It's her third title this year.",
    "Heavy snow closed roads around Östervik and Ardmuir on Monday. Forecasters at the National Weather "
    "Office expect more by Jan. 14.",
    "Prime Minister Casimir Dunmerrow of the People's Reform Party told reporters in Sanmorro that it's "
    '"too early" to call an election. The Green Alliance disagreed.',
    "The Moravellan director Halina Tregallis will open the Winter Lantern Festival in St. Aubrel on "
    'Friday with her film "Salt and Ember".',
    "Researchers at Lowenmark Observatory and Noctua Pharma say they've found a 1,250-year-old seed bank "
    "near Lake Orrin, close to the U.P.A. border.",
    "Shares in Ostrum Bank fell 3% in Istrane after the Istrane Reserve Bank raised its main rate to "
    "5.25%. Kelderwick Rovers beat Saltmere Blues 2-1 in the evening.",
]


# Gold entities of the raw texts, by surface string (the first match in the text), for annotated.jsonl.
RAW_ENTITIES = [
    [("Corvane Systems Inc.", "ORG"), ("Atlas", "MISC"), ("Veldoria", "LOC")],
    [
        ("Imre Voskuijlen", "PER"),
        ("University of Kelderwick", "ORG"),
        ("Kelderwick", "LOC"),
        ("Brannock Valley Rail Authority", "ORG"),
        ("BVRA", "ORG"),
    ],
    [
        ("Port Halvery", "LOC"),
        ("Zoë Ferreira-Lund", "PER"),
        ("Vessaly Open", "MISC"),
        ("Göran Maelbeck", "PER"),
    ],
    [("Östervik", "LOC"), ("Ardmuir", "LOC"), ("National Weather Office", "ORG")],
    [
        ("Casimir Dunmerrow", "PER"),
        ("People's Reform Party", "ORG"),
        ("Sanmorro", "LOC"),
        ("Green Alliance ", "ORG"),
    ],
    [
        ("Moravellan", "MISC"),
        ("Halina Tregallis", "PER"),
        ("Winter Lantern Festival", "MISC"),
        ("St. Aubrel", "LOC"),
        ("Salt and Ember", "MISC"),
    ],
    [("Lowenmark Observatory", "ORG"), ("Noctua Pharma", "ORG"), ("Lake Orrin", "LOC"), ("U.P.A", "LOC")],
    [
        ("Ostrum Bank", "ORG"),
        ("Istrane", "LOC"),
        ("Istrane Reserve Bank", "ORG"),
        ("Kelderwick Rovers", "ORG"),
        ("Saltmere Blues", "ORG"),
    ],
]


def annotated_records() -> list[dict[str, object]]:
    """The raw texts with their gold entities as character spans, in the JSON-lines shapes annotation
    tools export: nerkit's `entities`, spaCy/Prodigy `spans` (one rejected by its annotator), Doccano's
    `label` triples and `entities` with `start_offset`. On purpose: a span with a trailing space, one
    nested in another ("Kelderwick" in "University of Kelderwick"), one ending inside a token ("U.P.A"
    of "U.P.A."), so `nerkit stats --alignment` has something to show."""
    records: list[dict[str, object]] = []
    for number, (text, entities) in enumerate(zip(RAW_TEXT, RAW_ENTITIES, strict=True)):
        spans = [
            (text.index(surface), text.index(surface) + len(surface), label) for surface, label in entities
        ]
        if number % 4 == 0:
            records.append(
                {"text": text, "entities": [{"start": s, "end": e, "label": x} for s, e, x in spans]}
            )
        elif number % 4 == 1:
            records.append(
                {
                    "text": text,
                    "spans": [{"start": s, "end": e, "label": x} for s, e, x in spans],
                    "answer": "accept",
                    "meta": {"source": "raw.txt", "line": number + 1},
                }
            )
        elif number % 4 == 2:
            records.append({"id": number + 1, "text": text, "label": [[s, e, x] for s, e, x in spans]})
        else:
            records.append(
                {
                    "text": text,
                    "entities": [
                        {"id": i, "start_offset": s, "end_offset": e, "label": x}
                        for i, (s, e, x) in enumerate(spans)
                    ],
                }
            )
    records.append({"text": "A record the annotator rejected.", "spans": [], "answer": "reject"})
    return records


def write(path: Path, text: str) -> None:
    """Write UTF-8 text with \\n line endings."""
    path.write_text(text, encoding="utf-8", newline="\n")


def main() -> None:
    """Generate the three splits, raw.txt and the dev baseline predictions."""
    pools = build_pools(random.Random(SEED))
    splits: dict[str, list[list[Sentence]]] = {}
    known: dict[str, list[Entity]] | None = None
    for offset, (name, size) in enumerate(SPLIT_SIZES.items(), start=1):
        if name == "train":
            generator = Generator(random.Random(SEED + offset), pools, unseen_rate=0.0)
        else:
            generator = Generator(random.Random(SEED + offset), pools, UNSEEN_RATE, known=known)
        splits[name] = generate_split(generator, size)
        if name == "train":
            known = generator.created
        write(HERE / f"{name}.conll", format_documents(splits[name], "-DOCSTART- O"))

    write(HERE / "raw.txt", "\n".join(RAW_TEXT) + "\n")
    lines = [json.dumps(record, ensure_ascii=False) + "\n" for record in annotated_records()]
    write(HERE / "annotated.jsonl", "".join(lines))

    gazetteer = build_gazetteer(HERE / "train.conll")
    predicted = [
        [
            [
                (token, gold, pred)
                for (token, gold), pred in zip(
                    sentence, gazetteer_tags([t for t, _ in sentence], gazetteer), strict=True
                )
            ]
            for sentence in document
        ]
        for document in splits["dev"]
    ]
    write(HERE / "dev_predictions.conll", format_documents(predicted, "-DOCSTART- O O"))


if __name__ == "__main__":
    main()
