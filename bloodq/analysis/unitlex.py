"""Units as lab reports print them: one regex that finds them, one function that normalises them.

Units are matched from a lexicon of atoms (prefix x base, count words, powers of ten) rather than
a loose ``\\w+/\\w+`` pattern, because reports glue units to numbers (``mill/mm34.50`` is
``mill/mm3`` then ``4.50``) and print slash-joined names (``BUN/Creatinine``) that are not units.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ['UNIT_PATTERN', 'normalise_unit']

# SI-ish atoms: optional prefix then base. ``mc`` is the pharmacy spelling of micro.
_PREFIX = r'(?:mc|[kmcdunpfµμ])?'
_BASE = r'(?:gms|gm|g|mol|osm|eq|iu|u|l)'
_ATOM = _PREFIX + _BASE
_POW10 = r'(?:[x×]\s?)?10\s?(?:[\^*eE]\s?\d{1,2}|[³⁶⁹]|¹²)'
_COUNT = r'(?:cells|thousands?|thou|millions?|mill|mil\.?|lakhs?|copies|[km]|' + _POW10 + r')'
# Volume denominators first so ``mm3`` wins over ``mm`` (``thou/mm3200`` is ``thou/mm3`` + 200).
_DENOM = (
    r'(?:cu\.?\s?mm|cumm|cmm|mm\s?(?:3|³|\^3)|1\.73(?:\s?m\s?(?:2|²|\^2|\*2))?|1st\s?hr?|1\s?hr?|24\s?hrs?|24\s?h|hpf|lpf|'
    r'hrs?|min|day|kg|mm|' + _ATOM + r'|h)'
)
_NUMER = r'(?:' + _COUNT + r'|mm|' + _ATOM + r')'
_STANDALONE = r'(?:(?:mg|gms?|g)\s?%|%|fl|pg|secs?|seconds|iu|mm/hr)'

#: Matches one printed unit. Letters may not touch either end (``g`` in ``glucose`` is no unit);
#: digits may follow, since values are often glued after the unit.
UNIT_PATTERN = (
    r'(?<![A-Za-z])(?:'
    + _NUMER + r'(?:\s?/\s?' + _DENOM + r'){1,2}'
    + r'|/\s?(?:cumm|cmm|mm\s?(?:3|³)|[µμu]l|mcl|hpf|lpf|l)'
    + r'|' + _STANDALONE
    + r')(?![A-Za-z])'
)

_UNIT_RE = re.compile(UNIT_PATTERN, re.IGNORECASE)

# Rewrites applied in order to a lower-cased, space-free unit. They only merge spellings of the
# same quantity (1 mm3 == 1 uL, 10^9/L == 10^3/uL, IU == U for enzymes), never different ones.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(a), b)
    for a, b in (
        (r'[µμ]', 'u'),
        (r'(?<=[a-z])\.(?=[a-z/])', ''),  # 'mil./cu.mm' -> 'mil/cumm'
        (r'(?<![a-z])mc(?=[a-z])', 'u'),
        (r'×', 'x'),
        (r'²', '2'),
        (r'³', '^3'),
        (r'⁶', '^6'),
        (r'⁹', '^9'),
        (r'¹²', '^12'),
        (r'^x(?=10)', ''),
        (r'10[*e](?=\d)', '10^'),
        (r'(?<![a-z])gms?(?![a-z])', 'g'),
        (r'^(m?g)%$', r'\1/dl'),
        (r'(?:cumm|cmm|mm\^?3)$', 'ul'),
        (r'^cells/', '/'),
        (r'^(?:thousands?|thou|k)/', '10^3/'),
        (r'^(?:millions?|mill|mil|m)/', '10^6/'),
        (r'^lakhs?/', '10^5/'),
        (r'^10\^9/l$', '10^3/ul'),
        (r'^10\^12/l$', '10^6/ul'),
        (r'^10\^6/l$', '/ul'),
        (r'(?<![a-z])iu/', 'u/'),
        (r'^mm/(?:1st)?1?h(?:r|our)?s?$', 'mm/hr'),
        (r'^ml/min/1\.73(?:m\^?2)?$', 'ml/min/1.73m2'),
        (r'^secs?$|^seconds$', 's'),
        (r'^meq/l$', 'meq/l'),
    )
)


@lru_cache(maxsize=1024)
def normalise_unit(unit: str) -> str:
    """Return a comparable key for a printed unit: ``'Thou/mm3'`` -> ``'10^3/ul'``, ``'gm/dL'`` -> ``'g/dl'``.

    Spellings of the same quantity map to one key; different quantities stay different
    (``mEq/L`` is not folded into ``mmol/L`` because that depends on the ion's charge).
    """
    u = unit.strip().lower().replace(' ', '')
    for pattern, repl in _REWRITES:
        u = pattern.sub(repl, u)
    return u


def find_units(text: str) -> list[str]:
    """Every unit in ``text``, in order (a helper for tests and diagnostics)."""
    return [m.group(0) for m in _UNIT_RE.finditer(text)]
