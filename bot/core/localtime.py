"""Where a person lives: their time zone, chosen with /timezone or guessed from their
language. Reading a zone reads the tz database (deterministic, and cached by zoneinfo).

`find_timezone` understands what people type after /timezone: an IANA name in any case
("europe/paris"), a city of the tz database ("Paris", "new york", "Montréal": accents,
spaces, hyphens and case do not matter), a few cities and countries that have no zone of
their own, under their French or English names ("Lyon", "Bruxelles", "Londres",
"Suisse"), and otherwise the closest names, to choose from. The index is built once,
from `zoneinfo.available_timezones()` (the `tzdata` dependency), on first use.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.state import UserState

_TIMEZONES = {"fr": "Europe/Paris", "en": "Europe/London"}
# The areas of the tz database whose zones are named after a place ("Europe/Paris");
# the rest are legacy or technical names ("US/Eastern", "Etc/GMT+5"), accepted when
# typed in full but never suggested.
_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe"}
    | {"Indian", "Pacific"}
)
_NOT_ZONES = ("posix/", "right/", "SystemV/")
_NOT_ZONE_NAMES = frozenset({"localtime", "Factory", "posixrules"})
SUGGESTIONS = 4  # at most this many names to choose from

# Places people name that have no zone of their own (French and English names), and
# countries: the zone they live by. A country with several zones offers them all.
_PLACES: dict[str, str] = {
    "Europe/Paris": "France, Lyon, Marseille, Toulouse, Nice, Nantes, Strasbourg, "
    "Montpellier, Bordeaux, Lille, Rennes, Reims, Toulon, Grenoble, Dijon, Angers, Nîmes, "
    "Clermont-Ferrand, Le Havre, Tours, Limoges, Amiens, Perpignan, Metz, Besançon, "
    "Orléans, Rouen, Caen, Nancy, Brest, Avignon, Pau, La Rochelle, Poitiers, Annecy, "
    "Ajaccio, Bastia, Corse, Corsica",
    "Europe/Brussels": "Belgique, Belgium, Bruxelles, Liège, Namur, Charleroi, Mons, "
    "Anvers, Antwerp, Gand, Ghent, Bruges",
    "Europe/Zurich": "Suisse, Switzerland, Genève, Geneva, Lausanne, Berne, Bern, Bâle, "
    "Basel, Neuchâtel, Fribourg, Sion",
    "Europe/London": "Londres, Royaume-Uni, United Kingdom, UK, Angleterre, England, "
    "Écosse, Scotland, Édimbourg, Edinburgh, Manchester, Birmingham, Grande-Bretagne",
    "Europe/Madrid": "Barcelone, Barcelona, Séville, Seville, Malaga, Alicante",
    "Atlantic/Canary": "Canaries, Canary Islands, Tenerife",
    "Europe/Lisbon": "Lisbonne, Porto, Algarve, Faro",
    "Atlantic/Madeira": "Madère",
    "Atlantic/Azores": "Açores",
    "Europe/Rome": "Italie, Italy, Milan, Venise, Venice, Florence, Naples, Turin",
    "Europe/Berlin": "Allemagne, Germany, Munich, Francfort, Frankfurt, Hambourg, Hamburg, Cologne",
    "Europe/Amsterdam": "Pays-Bas, Netherlands, Hollande, Holland, Rotterdam",
    "Europe/Vienna": "Autriche, Austria, Vienne",
    "Europe/Athens": "Grèce, Greece, Athènes",
    "Europe/Warsaw": "Pologne, Poland, Varsovie",
    "Europe/Moscow": "Russie, Moscou",
    "Europe/Copenhagen": "Danemark, Denmark, Copenhague",
    "Europe/Stockholm": "Suède, Sweden",
    "Europe/Oslo": "Norvège, Norway",
    "Europe/Helsinki": "Finlande, Finland",
    "Europe/Dublin": "Irlande, Ireland",
    "Atlantic/Reykjavik": "Islande, Iceland",
    "Europe/Prague": "Tchéquie, République tchèque, Czechia",
    "Europe/Budapest": "Hongrie, Hungary",
    "Europe/Bucharest": "Roumanie, Romania, Bucarest",
    "Europe/Istanbul": "Turquie, Turkey",
    "Africa/Casablanca": "Maroc, Morocco, Marrakech, Rabat, Fès, Agadir, Tanger",
    "Africa/Algiers": "Algérie, Algeria, Alger, Oran",
    "Africa/Tunis": "Tunisie, Tunisia",
    "Africa/Dakar": "Sénégal, Senegal",
    "Africa/Abidjan": "Côte d'Ivoire, Ivory Coast",
    "Africa/Douala": "Cameroun, Cameroon, Yaoundé",
    "Africa/Cairo": "Égypte, Egypt, Le Caire",
    "Indian/Antananarivo": "Madagascar",
    "Indian/Mauritius": "Maurice, Île Maurice",
    "Indian/Reunion": "La Réunion, Saint-Denis de la Réunion",
    "America/Cayenne": "Guyane, Guyane française, French Guiana",
    "America/Miquelon": "Saint-Pierre-et-Miquelon",
    "America/Marigot": "Saint-Martin",
    "Pacific/Noumea": "Nouvelle-Calédonie, New Caledonia",
    "Pacific/Tahiti": "Polynésie, Polynésie française, French Polynesia, Papeete",
    "America/Toronto": "Montréal, Québec, Quebec, Laval, Gatineau, Sherbrooke, Trois-Rivières, "
    "Ottawa",
    "America/New_York": "Washington, Boston, Miami, Floride, Florida, Atlanta",
    "America/Chicago": "Houston, Dallas",
    "America/Los_Angeles": "San Francisco, Seattle, Las Vegas, Californie, California",
    "Asia/Tokyo": "Japon, Japan",
    "Asia/Shanghai": "Chine, China, Pékin, Beijing",
    "Asia/Kolkata": "Inde, India, Delhi, New Delhi, Bombay, Mumbai",
    "Asia/Ho_Chi_Minh": "Vietnam, Viêt Nam, Hanoï, Saïgon",
    "Asia/Bangkok": "Thaïlande, Thailand",
    "Asia/Jerusalem": "Israël, Israel, Tel Aviv",
    "Asia/Beirut": "Liban, Lebanon, Beyrouth",
    "Asia/Dubai": "Émirats, Emirates",
    "Pacific/Auckland": "Nouvelle-Zélande, New Zealand",
    "America/Sao_Paulo": "Brésil, Brazil, Rio de Janeiro, Rio",
    "America/Mexico_City": "Mexique, Mexico",
    "America/Argentina/Buenos_Aires": "Argentine, Argentina",
}
_COUNTRIES: dict[str, tuple[str, ...]] = {
    "Espagne, Spain": ("Europe/Madrid", "Atlantic/Canary"),
    "Portugal": ("Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"),
    "Canada": ("America/Toronto", "America/Halifax", "America/Winnipeg", "America/Vancouver"),
    "États-Unis, Etats Unis, United States, USA, US": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    ),
    "Australie, Australia": (
        "Australia/Sydney",
        "Australia/Brisbane",
        "Australia/Adelaide",
        "Australia/Perth",
    ),
}


def default_timezone(language: str) -> ZoneInfo:
    """A best guess at where someone lives from their language, until they say."""
    return ZoneInfo(_TIMEZONES.get(language, "UTC"))


def timezone_of(state: UserState) -> ZoneInfo:
    """The person's timezone: chosen with /timezone, else their language's default."""
    if state.timezone:
        try:
            return ZoneInfo(state.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default_timezone(state.lang)


# -- what people type -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ZoneGuess:
    """What a typed place means: the one zone it names, or the closest zones to choose
    from (both empty: nothing close)."""

    zone: str | None = None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Index:
    names: frozenset[str]  # every zone a person may end up with
    full: dict[str, str]  # key of a whole IANA name ("europe/new york") -> the name
    places: dict[str, tuple[str, ...]]  # key of a place ("new york") -> its zone(s)
    keys: tuple[str, ...]  # the places' keys, for the closest matches


_DROPPED = re.compile(r"['’`.]")
_SEPARATORS = re.compile(r"[\s_\-]+")
_SAINT = re.compile(r"\b(?:saint|sainte|ste)\b")


def _key(text: str) -> str:
    """A name as compared: no accents, no case, spaces for "_" and "-", "st" for saint."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = _SEPARATORS.sub(" ", _DROPPED.sub("", bare))
    bare = re.sub(r"\s*/\s*", "/", bare).strip(" /")
    return _SAINT.sub("st", bare)


def _usable(name: str) -> bool:
    return name not in _NOT_ZONE_NAMES and not name.startswith(_NOT_ZONES)


@cache
def _index() -> _Index:
    names = frozenset(n for n in available_timezones() if _usable(n))
    full = {_key(n): n for n in sorted(names) if "/" in n or n == "UTC"}
    places: dict[str, tuple[str, ...]] = {}
    for name in sorted(names):
        if name.split("/", 1)[0] not in _AREAS or "/" not in name:
            continue
        key = _key(name.rsplit("/", 1)[1])
        # One city under two names ("America/Buenos_Aires", "America/Argentina/
        # Buenos_Aires") is one place: the longer, more precise name is the current one.
        if key not in places or len(name) > len(places[key][0]):
            places[key] = (name,)
    aliases = {
        zone: tuple(n.strip() for n in listed.split(",")) for zone, listed in _PLACES.items()
    }
    for zone, named in aliases.items():
        for typed in named:
            places.setdefault(_key(typed), (zone,))
    for listed, zones in _COUNTRIES.items():
        for typed in listed.split(","):
            places.setdefault(_key(typed), zones)
    places = {k: z for k, z in places.items() if all(n in names for n in z)}
    return _Index(names, full, places, tuple(sorted(places)))


def known_timezone(name: str) -> bool:
    """Whether `name` is, exactly, a zone a person may choose (a button's value)."""
    return name in _index().names and ("/" in name or name == "UTC")


def place_name(zone: str) -> str:
    """The place a zone is named after, as people write it: "America/New_York" -> "New
    York", "Etc/GMT+5" -> "GMT+5"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def find_timezone(typed: str, limit: int = SUGGESTIONS) -> ZoneGuess:
    """What a person means by `typed` (see the module's docstring)."""
    key = _key(typed[:100])
    if not key:
        return ZoneGuess()
    index = _index()
    if key in index.full:
        return ZoneGuess(index.full[key])
    # "Europe/Pariss": the place after the last slash; "Paris, France": each part
    parts = [key.rsplit("/", 1)[1]] if "/" in key else []
    parts += [p.strip() for p in re.split(r"[,;(]", key.replace(")", "")) if p.strip()]
    for part in [key, *parts]:
        zones = index.places.get(part)
        if zones is not None:
            return ZoneGuess(zones[0]) if len(zones) == 1 else ZoneGuess(None, zones[:limit])
    # "je suis à Lyon", "Paris France": the words that name a place, if they agree
    words = key.replace("/", " ").replace(",", " ").split()
    named = {z for w in words if len(w) > 2 for z in index.places.get(w, ())[:1]}
    if len(named) == 1:
        return ZoneGuess(named.pop())
    return ZoneGuess(None, _closest(index, parts[0] if "/" in key else key, limit))


def _closest(index: _Index, key: str, limit: int) -> tuple[str, ...]:
    """Places starting with what was typed, then places one of whose words does, then
    names that look alike (typos): their zones, nearest first, without repeats."""
    found: list[str] = []
    if len(key) >= 3:
        found += sorted((k for k in index.keys if k.startswith(key)), key=len)
        found += [k for k in index.keys if f" {key}" in f" {k}" and k not in found]
    found += difflib.get_close_matches(key, index.keys, n=limit, cutoff=0.75)
    zones: list[str] = []
    for place in found:
        for zone in index.places[place]:
            if zone not in zones:
                zones.append(zone)
    return tuple(zones[:limit])
