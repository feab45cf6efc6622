"""Greater London gazetteer and vocabulary for the synthetic field-service days.

Why a hand-made table: realistic demand clusters around town centres, and a
dispatcher reads "14 Station Road, Hackney E8" far more easily than a bare
coordinate. Centroids are approximate (+-300 m) town-centre positions; the
territory of each area is the dispatch region a London service desk would give
it. ``weight`` is the relative number of service calls (central London has more
commercial sites per km2).
"""

from __future__ import annotations

from dataclasses import dataclass

TIMEZONE = "Europe/London"
TERRITORIES: tuple[str, ...] = ("central", "north", "east", "south", "west")

#: Territories a technician based in one may also be asked to cover.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "central": ("north", "east", "south", "west"),
    "north": ("central", "east", "west"),
    "east": ("central", "north", "south"),
    "south": ("central", "east", "west"),
    "west": ("central", "north", "south"),
}


@dataclass(frozen=True)
class Area:
    name: str
    postcode: str
    lat: float
    lon: float
    territory: str
    weight: float = 1.0


AREAS: tuple[Area, ...] = (
    # central
    Area("Westminster", "SW1", 51.4975, -0.1357, "central", 2.0),
    Area("Soho", "W1", 51.5136, -0.1365, "central", 2.0),
    Area("City of London", "EC2", 51.5155, -0.0922, "central", 2.0),
    Area("Holborn", "WC1", 51.5178, -0.1200, "central", 1.5),
    Area("Southwark", "SE1", 51.5035, -0.0904, "central", 1.5),
    Area("Kensington", "W8", 51.5010, -0.1925, "central", 1.2),
    Area("Camden Town", "NW1", 51.5390, -0.1426, "central", 1.3),
    Area("Islington", "N1", 51.5362, -0.1033, "central", 1.3),
    Area("Shoreditch", "E2", 51.5245, -0.0780, "central", 1.3),
    Area("Chelsea", "SW3", 51.4875, -0.1687, "central", 1.0),
    # north
    Area("Hampstead", "NW3", 51.5560, -0.1780, "north", 0.8),
    Area("Highgate", "N6", 51.5716, -0.1448, "north", 0.6),
    Area("Finchley", "N3", 51.6010, -0.1930, "north", 0.8),
    Area("Barnet", "EN5", 51.6530, -0.2000, "north", 0.7),
    Area("Enfield", "EN1", 51.6523, -0.0807, "north", 0.9),
    Area("Tottenham", "N17", 51.5975, -0.0681, "north", 0.9),
    Area("Wood Green", "N22", 51.5975, -0.1096, "north", 0.8),
    Area("Edgware", "HA8", 51.6130, -0.2750, "north", 0.6),
    Area("Hendon", "NW4", 51.5830, -0.2260, "north", 0.7),
    # east
    Area("Stratford", "E15", 51.5413, -0.0030, "east", 1.1),
    Area("Hackney", "E8", 51.5450, -0.0553, "east", 1.0),
    Area("Walthamstow", "E17", 51.5830, -0.0200, "east", 0.9),
    Area("Ilford", "IG1", 51.5590, 0.0741, "east", 0.9),
    Area("Romford", "RM1", 51.5750, 0.1830, "east", 0.8),
    Area("Barking", "IG11", 51.5362, 0.0810, "east", 0.7),
    Area("Canary Wharf", "E14", 51.5054, -0.0235, "east", 1.4),
    Area("Dagenham", "RM10", 51.5400, 0.1480, "east", 0.6),
    Area("Bow", "E3", 51.5290, -0.0200, "east", 0.7),
    # south
    Area("Brixton", "SW2", 51.4613, -0.1156, "south", 0.9),
    Area("Clapham", "SW4", 51.4618, -0.1384, "south", 0.9),
    Area("Croydon", "CR0", 51.3762, -0.0982, "south", 1.1),
    Area("Lewisham", "SE13", 51.4615, -0.0100, "south", 0.9),
    Area("Greenwich", "SE10", 51.4826, 0.0077, "south", 0.8),
    Area("Bromley", "BR1", 51.4060, 0.0140, "south", 0.8),
    Area("Sutton", "SM1", 51.3618, -0.1945, "south", 0.6),
    Area("Wimbledon", "SW19", 51.4214, -0.2064, "south", 0.8),
    Area("Peckham", "SE15", 51.4740, -0.0690, "south", 0.7),
    Area("Eltham", "SE9", 51.4510, 0.0520, "south", 0.5),
    Area("Kingston upon Thames", "KT1", 51.4123, -0.3007, "south", 0.7),
    # west
    Area("Hammersmith", "W6", 51.4927, -0.2339, "west", 1.0),
    Area("Ealing", "W5", 51.5130, -0.3040, "west", 0.9),
    Area("Acton", "W3", 51.5080, -0.2730, "west", 0.7),
    Area("Chiswick", "W4", 51.4920, -0.2570, "west", 0.6),
    Area("Richmond", "TW9", 51.4613, -0.3037, "west", 0.6),
    Area("Hounslow", "TW3", 51.4668, -0.3615, "west", 0.8),
    Area("Uxbridge", "UB8", 51.5460, -0.4780, "west", 0.6),
    Area("Harrow", "HA1", 51.5806, -0.3420, "west", 0.8),
    Area("Wembley", "HA9", 51.5560, -0.2960, "west", 0.8),
    Area("Fulham", "SW6", 51.4730, -0.2010, "west", 0.8),
)

STREETS: tuple[str, ...] = (
    "High Street", "Station Road", "Church Road", "Park Road", "London Road",
    "Victoria Road", "Green Lane", "Manor Road", "Church Street", "Park Avenue",
    "Queens Road", "The Broadway", "Grove Road", "Albert Road", "Alexandra Road",
    "Kings Road", "Mill Lane", "New Road", "Richmond Road", "York Road",
    "Windsor Road", "Springfield Road", "Stanley Road", "Chestnut Grove",
    "Elm Park", "Kingsway", "Highfield Road", "Cedar Avenue", "Clarence Road",
    "Gladstone Road", "Salisbury Road", "Warwick Avenue", "Market Street",
    "Mansfield Road", "Wellington Road", "Oxford Road", "Cromwell Road",
    "Belmont Hill", "Northwood Way", "Riverside Walk",
)

FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Sophia", "Grace", "Priya", "Aisha",
    "Fatima", "Zara", "Chloe", "Emily", "Hannah", "Leah", "Ana", "Maria", "Niamh",
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Muhammad",
    "Oscar", "Charlie", "Jacob", "Thomas", "Ravi", "Kwame", "Tomasz", "Luca",
    "Daniel", "Samuel", "Joseph", "Ethan", "Kofi", "Marek", "Adebayo", "Sean",
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
    "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts",
    "Green", "Hall", "Khan", "Ahmed", "Okafor", "Mensah", "Kowalski", "Nowak",
    "Singh", "Shah", "Murphy", "O'Brien", "Clarke", "Hughes", "Edwards", "Lewis",
    "Rossi", "Silva", "Begum", "Hussain", "Campbell", "Mitchell", "Osei", "Ali",
)

BUSINESS_KINDS: tuple[str, ...] = (
    "Dental Practice", "Bakery", "Estates", "Pharmacy", "Accountants", "Hotel",
    "Gym", "Primary School", "Medical Centre", "Cafe", "Solicitors", "Data Centre",
    "Offices", "Surgery", "Motors", "Print Works", "Florist", "Care Home",
    "Restaurant", "Supermarket", "Library", "Studios", "Veterinary Clinic",
)

#: skill -> (assets a customer may own, ticket summaries for that skill)
SKILL_VOCABULARY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "hvac": (
        ("Daikin VRV IV heat pump", "Mitsubishi Ecodan air-source heat pump",
         "Carrier rooftop AC unit", "Fujitsu split AC system", "Trane chiller"),
        ("No cooling in server room", "Heat pump showing error code E7",
         "Annual HVAC service due", "Outdoor unit very noisy",
         "Water leaking from indoor cassette", "Thermostat not responding"),
    ),
    "electrical": (
        ("Hager consumer unit", "Zappi EV charger", "Emergency lighting system",
         "Three-phase distribution board", "Solar PV inverter"),
        ("RCD keeps tripping", "EV charger offline", "Emergency lighting test failed",
         "Partial power loss on ground floor", "Inverter reporting earth fault",
         "EICR remedial works"),
    ),
    "plumbing": (
        ("Worcester Bosch combi boiler", "Mains water booster pump",
         "Unvented hot water cylinder", "Commercial dishwasher feed", "Grundfos circulator"),
        ("No hot water", "Leak under kitchen sink", "Low water pressure on upper floors",
         "Cylinder pressure relief valve dripping", "Blocked drain in washroom"),
    ),
    "gas": (
        ("Vaillant ecoTEC boiler", "Commercial gas range", "Gas-fired warm air heater",
         "Baxi boiler", "Gas meter and regulator"),
        ("Boiler lockout, no heating", "Annual gas safety certificate (CP12)",
         "Smell of gas reported, made safe", "Pilot light keeps going out",
         "Flue inspection required"),
    ),
    "fibre": (
        ("FTTP ONT", "Business leased line NTE", "Cat6 patch panel", "Wi-Fi 6 access points",
         "Core switch stack"),
        ("Internet down at site", "Intermittent packet loss", "New fibre line activation",
         "Access point not broadcasting", "Patch panel re-termination"),
    ),
    "security": (
        ("Texecom intruder alarm panel", "Hikvision CCTV NVR", "Paxton access control door",
         "Fire alarm panel", "Video door entry system"),
        ("Alarm false activations overnight", "CCTV camera offline",
         "Door entry fob reader fault", "Fire alarm panel fault light",
         "Annual security system maintenance"),
    ),
}

#: Skills technicians hold, with how often work needs each (relative weight).
SKILL_DEMAND: dict[str, float] = {
    "hvac": 25, "electrical": 25, "plumbing": 20, "gas": 10, "fibre": 10, "security": 10,
}

#: A skill no technician in these data sets holds: "impossible" visits use it.
UNSTAFFED_SKILL = "lift"
UNSTAFFED_VOCABULARY = (
    ("Otis passenger lift", "Stannah stairlift", "Goods lift"),
    ("Lift stuck between floors", "Lift door sensor fault", "Six-monthly LOLER inspection"),
)
