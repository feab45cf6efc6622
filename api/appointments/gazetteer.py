"""A deterministic local gazetteer: the ``offline`` geocoding provider.

A geopy-compatible geocoder (``GazetteerGeocoder.geocode`` behaves like any
geopy provider's) answering from a fixed table, so tests and the demo give the
same coordinates on every machine and never call out to a network service.
It is an extra provider beside the real ones (``nominatim`` and the rest of
geopy), chosen with the ``geocoder`` setting; it is not a mock of them.

Matching is deliberately simple and predictable, most precise first: the
whole address after normalisation (case, punctuation, spacing), else the full
UK postcode inside the query, else its postcode district (outward code, e.g.
``E8``) at the district's centre. Anything else is "no result", exactly like a
real provider saying so. ``raw["match"]`` says which level answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

# (address, lat, lon). Central and Greater London points with their postcodes;
# coordinates are approximate (about 100 m) and fixed forever for reproducibility.
LONDON: tuple[tuple[str, float, float], ...] = (
    ("10 Downing Street, London SW1A 2AA", 51.50340, -0.12770),
    ("Buckingham Palace, London SW1A 1AA", 51.50140, -0.14190),
    ("British Museum, Great Russell Street, London WC1B 3DG", 51.51940, -0.12700),
    ("Tower of London, London EC3N 4AB", 51.50810, -0.07590),
    ("St Paul's Cathedral, London EC4M 8AD", 51.51380, -0.09840),
    ("King's Cross Station, Euston Road, London N1 9AL", 51.53080, -0.12380),
    ("Paddington Station, Praed Street, London W2 1HQ", 51.51540, -0.17550),
    ("Waterloo Station, London SE1 8SW", 51.50310, -0.11320),
    ("Victoria Station, London SW1V 1JU", 51.49520, -0.14410),
    ("Liverpool Street Station, London EC2M 7PY", 51.51780, -0.08230),
    ("London Bridge Station, London SE1 9SP", 51.50480, -0.08650),
    ("1 Canada Square, Canary Wharf, London E14 5AB", 51.50540, -0.02350),
    ("Greenwich Park, London SE10 8QY", 51.47690, -0.00050),
    ("Wembley Stadium, London HA9 0WS", 51.55600, -0.27960),
    ("Kew Gardens, Richmond TW9 3AE", 51.47870, -0.29560),
    ("Olympic Park, Stratford, London E20 2ST", 51.54300, -0.01660),
    ("Brixton Station, London SW9 8HE", 51.46270, -0.11450),
    ("Crystal Palace Park, London SE19 2GU", 51.42000, -0.07250),
    ("Alexandra Palace, London N22 7AY", 51.59420, -0.13100),
    ("East Croydon Station, Croydon CR0 1LF", 51.37550, -0.09280),
    ("Ealing Broadway Station, London W5 2NU", 51.51500, -0.30170),
    ("Walthamstow Central Station, London E17 7LP", 51.58300, -0.01970),
    ("Wimbledon Station, London SW19 7NL", 51.42140, -0.20640),
    ("Clapham Junction Station, London SW11 2QP", 51.46430, -0.17040),
    ("Angel Station, Islington, London N1 8XA", 51.53220, -0.10580),
    ("Camden Market, London NW1 8AF", 51.54150, -0.14660),
    ("Hampstead Heath Station, London NW3 2QD", 51.55530, -0.16570),
    ("Heathrow Terminal 5, Hounslow TW6 2GA", 51.47150, -0.48780),
)

# (outward code, lat, lon, area): approximate town-centre positions of London
# postcode districts, the last resort for an address whose full postcode is unknown.
DISTRICTS: tuple[tuple[str, float, float, str], ...] = (
    ("SW1", 51.4975, -0.1357, "Westminster"),
    ("W1", 51.5136, -0.1365, "Soho"),
    ("EC2", 51.5155, -0.0922, "City of London"),
    ("WC1", 51.5178, -0.1200, "Holborn"),
    ("SE1", 51.5035, -0.0904, "Southwark"),
    ("W8", 51.5010, -0.1925, "Kensington"),
    ("NW1", 51.5390, -0.1426, "Camden Town"),
    ("N1", 51.5362, -0.1033, "Islington"),
    ("E2", 51.5245, -0.0780, "Shoreditch"),
    ("SW3", 51.4875, -0.1687, "Chelsea"),
    ("NW3", 51.5560, -0.1780, "Hampstead"),
    ("N6", 51.5716, -0.1448, "Highgate"),
    ("N3", 51.6010, -0.1930, "Finchley"),
    ("EN5", 51.6530, -0.2000, "Barnet"),
    ("EN1", 51.6523, -0.0807, "Enfield"),
    ("N17", 51.5975, -0.0681, "Tottenham"),
    ("N22", 51.5975, -0.1096, "Wood Green"),
    ("HA8", 51.6130, -0.2750, "Edgware"),
    ("NW4", 51.5830, -0.2260, "Hendon"),
    ("E15", 51.5413, -0.0030, "Stratford"),
    ("E8", 51.5450, -0.0553, "Hackney"),
    ("E17", 51.5830, -0.0200, "Walthamstow"),
    ("IG1", 51.5590, 0.0741, "Ilford"),
    ("RM1", 51.5750, 0.1830, "Romford"),
    ("IG11", 51.5362, 0.0810, "Barking"),
    ("E14", 51.5054, -0.0235, "Canary Wharf"),
    ("RM10", 51.5400, 0.1480, "Dagenham"),
    ("E3", 51.5290, -0.0200, "Bow"),
    ("SW2", 51.4613, -0.1156, "Brixton"),
    ("SW4", 51.4618, -0.1384, "Clapham"),
    ("CR0", 51.3762, -0.0982, "Croydon"),
    ("SE13", 51.4615, -0.0100, "Lewisham"),
    ("SE10", 51.4826, 0.0077, "Greenwich"),
    ("BR1", 51.4060, 0.0140, "Bromley"),
    ("SM1", 51.3618, -0.1945, "Sutton"),
    ("SW19", 51.4214, -0.2064, "Wimbledon"),
    ("SE15", 51.4740, -0.0690, "Peckham"),
    ("SE9", 51.4510, 0.0520, "Eltham"),
    ("KT1", 51.4123, -0.3007, "Kingston upon Thames"),
    ("W6", 51.4927, -0.2339, "Hammersmith"),
    ("W5", 51.5130, -0.3040, "Ealing"),
    ("W3", 51.5080, -0.2730, "Acton"),
    ("W4", 51.4920, -0.2570, "Chiswick"),
    ("TW9", 51.4613, -0.3037, "Richmond"),
    ("TW3", 51.4668, -0.3615, "Hounslow"),
    ("UB8", 51.5460, -0.4780, "Uxbridge"),
    ("HA1", 51.5806, -0.3420, "Harrow"),
    ("HA9", 51.5560, -0.2960, "Wembley"),
    ("SW6", 51.4730, -0.2010, "Fulham"),
)

_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.IGNORECASE)
_OUTWARD = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\b", re.IGNORECASE)


def normalise_address(text: str) -> str:
    """Case-, punctuation- and spacing-insensitive form of an address."""
    words = re.sub(r"[^\w]+", " ", text.casefold().replace("'", ""))
    return " ".join(words.split())


def find_postcode(text: str) -> str | None:
    """The full UK postcode in ``text``, upper-case without the inner space, if any."""
    match = _POSTCODE.search(text)
    return (match.group(1) + match.group(2)).upper() if match else None


def outward_codes(text: str) -> list[str]:
    """Candidate postcode districts in ``text``, last first (the postcode ends an address)."""
    return [code.upper() for code in reversed(_OUTWARD.findall(text))]


class GazetteerGeocoder(Geocoder):
    """geopy geocoder over fixed tables: addresses (with postcodes) and postcode districts."""

    def __init__(self, entries: Iterable[tuple[str, float, float]] = LONDON,
                 districts: Iterable[tuple[str, float, float, str]] = DISTRICTS,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._by_address: dict[str, Location] = {}
        self._by_postcode: dict[str, Location] = {}
        self._by_district: dict[str, Location] = {}
        for address, lat, lon in entries:
            location = Location(address, (lat, lon), {"source": "gazetteer", "match": "address"})
            self._by_address.setdefault(normalise_address(address), location)
            postcode = find_postcode(address)
            if postcode is not None:
                self._by_postcode.setdefault(postcode, Location(
                    address, (lat, lon), {"source": "gazetteer", "match": "postcode"}))
        for code, lat, lon, area in districts:
            self._by_district.setdefault(code.upper(), Location(
                f"{area}, London {code.upper()}", (lat, lon),
                {"source": "gazetteer", "match": "district"}))

    def _lookup(self, query: str) -> Location | None:
        found = self._by_address.get(normalise_address(query))
        if found is not None:
            return found
        postcode = find_postcode(query)
        if postcode is not None and postcode in self._by_postcode:
            return self._by_postcode[postcode]
        for code in outward_codes(query):
            if code in self._by_district:
                return self._by_district[code]
        return None

    def geocode(self, query: str, *, exactly_one: bool = True,
                timeout: object = DEFAULT_SENTINEL) -> Location | list[Location] | None:
        """Same contract as geopy's providers: a Location, a list of them, or None."""
        del timeout  # a local lookup: nothing to wait for
        found = self._lookup(str(query))
        if found is None:
            return None
        return found if exactly_one else [found]
