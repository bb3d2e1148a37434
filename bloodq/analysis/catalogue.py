"""The marker catalogue: what each analyte is called, its canonical unit, ranges and conversions.

The data lives in ``catalogue.json`` beside this module and is loaded once. Names are matched on a
normalised key (lower case, punctuation as spaces), then with parenthesised parts, specimen and
method words removed, so ``'Globulin(Calculated)'``, ``'SODIUM ISE'`` and
``'VITAMIN B12; CYANOCOBALAMIN, SERUM'`` all resolve. When one name fits several markers
(``Neutrophils`` as % and as an absolute count) the printed unit, then hints in the name, then
the value's plausibility decide.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from bloodq.analysis.unitlex import normalise_unit

__all__ = [
    'Marker', 'all_markers', 'default_range', 'get', 'is_alias', 'is_plausible', 'lookup', 'lookup_all',
    'lookup_qualitative', 'name_key', 'normalise_unit', 'to_canonical',
]

Bounds = tuple[float | None, float | None]
_PATH = Path(__file__).with_name('catalogue.json')


@dataclass(frozen=True, slots=True)
class Marker:
    """One analyte. ``conversions`` is keyed by normalised unit; value x factor + offset = canonical."""

    canonical: str
    name: str
    specialty: str
    aliases: tuple[str, ...]
    unit: str  #: canonical unit as printed ('' for ratios)
    conversions: Mapping[str, float]
    offsets: Mapping[str, float]
    ranges: Mapping[str, Bounds]  #: keys 'any', 'male', 'female'
    critical: Bounds | None
    plausible: tuple[float, float]  #: physiologically possible span in the canonical unit

    def __hash__(self) -> int:
        return hash(self.canonical)

    @property
    def unit_key(self) -> str:
        """The canonical unit, normalised."""
        return normalise_unit(self.unit)

    def accepts_unit(self, unit: str) -> bool:
        """Whether a value printed in ``unit`` can be converted to this marker's unit."""
        nu = normalise_unit(unit)
        return nu == self.unit_key or nu in self.conversions


@dataclass(frozen=True, slots=True)
class _Catalogue:
    markers: tuple[Marker, ...]
    by_canonical: Mapping[str, Marker]
    index: Mapping[str, tuple[Marker, ...]]
    qualitative: Mapping[str, str]


_PUNCT_RE = re.compile(r'[^0-9a-zα-ω]+')
# Abbreviations and spellings folded on both sides of the match (aliases and printed names).
_SYNONYMS = {
    'avg': 'average', 'est': 'estimated', 'estd': 'estimated', 'tot': 'total', 'chol': 'cholesterol',
    'vit': 'vitamin', 'abs': 'absolute', 'cnt': 'count', 'haemoglobin': 'hemoglobin', 'haematocrit': 'hematocrit',
    'leucocyte': 'leukocyte', 'leucocytes': 'leukocytes', 'colour': 'color', 'haemoglobin a1c': 'hba1c',
    'sr': 'serum', 'conc': 'concentration', 'hgb': 'hb', 'lymphs': 'lymphocytes', 'polys': 'neutrophils',
}
_DOTTED_RE = re.compile(r'\b([a-z](?:\.[a-z])+)\.?(?![a-z])')
_PAREN_RE = re.compile(r'\([^)]*\)?|\[[^\]]*\]?')
_PAREN_INNER_RE = re.compile(r'\(([^)]*)\)')
_SEGMENT_RE = re.compile(r'[;,:]')

# Words that say how or in what a test was measured; stripping them never changes the analyte.
_NOISE = frozenset([
    'serum', 'plasma', 's', 'blood', 'whole', 'venous', 'edta', 'level', 'levels', 'test', 'calculated', 'calc',
    'calculation', 'derived', 'measured', 'photometry', 'photometric', 'colorimetric', 'colorimetry', 'enzymatic',
    'kinetic', 'ifcc', 'ise', 'clia', 'cmia', 'eclia', 'hplc', 'immunoassay', 'immunoturbidimetry',
    'immunoturbidimetric', 'turbidimetry', 'turbidimetric', 'nephelometry', 'spectrophotometry',
    'spectrophotometric', 'electrical', 'impedance', 'impedence', 'flow', 'cytometry', 'automated', 'auto',
    'manual', 'microscopy', 'westergren', 'jaffe', 'modified', 'uricase', 'urease', 'biuret', 'bcg', 'bcp', 'god',
    'pod', 'gpo', 'cho', 'oxidase', 'hexokinase', 'chemiluminescence', 'elfa', 'elisa', 'vcs', 'technology', 'ngsp',
    'certified', 'equation', 'method', 'by', 'estimation', 'quantitative'
])
# Trailing words whose removal would change the analyte ('Creatinine Clearance' is not creatinine).
_MEANINGFUL = frozenset([
    'ratio', 'index', 'clearance', 'excretion', 'urine', 'urinary', 'free', 'direct', 'indirect', 'conjugated',
    'unconjugated', 'absolute', 'abs', 'fasting', 'random', 'pp', 'postprandial', 'prandial', 'post', 'binding',
    'saturation', 'antibody', 'antibodies', 'ab', 'ag', 'antigen', 'igg', 'igm', 'iga', 'distribution', 'width',
    'volume', 'mean', 'sd', 'cv', 'fraction', 'fractional', 'ionized', 'ionised', 'capacity', 'category', 'stage',
    'crystals', 'casts', 'cells', 'percent', 'percentage', 'count', 'non', 'hs', 'high', 'sensitivity', 'apo'
])


def name_key(name: str) -> str:
    """Normalised form of a test name used for alias matching: ``'A : G Ratio'`` -> ``'a g ratio'``."""
    s = name.lower().replace('µ', 'u').replace('μ', 'u').replace('’', '').replace("'", '')
    s = _DOTTED_RE.sub(lambda m: m.group(1).replace('.', ''), s)  # 'S.G.P.T.' -> 'sgpt'
    return ' '.join(_SYNONYMS.get(w, w) for w in _PUNCT_RE.sub(' ', s).split())


def _load() -> _Catalogue:
    raw: dict[str, Any] = json.loads(_PATH.read_text(encoding='utf-8'))
    markers: list[Marker] = []
    index: dict[str, list[Marker]] = {}
    for e in raw['markers']:
        conv: dict[str, float] = {}
        offs: dict[str, float] = {}
        for unit, f in e['conversions'].items():
            key = normalise_unit(unit)
            if isinstance(f, list):
                conv[key], offs[key] = float(f[0]), float(f[1])
            else:
                conv[key] = float(f)
        ranges = {k: (v[0], v[1]) for k, v in e['ranges'].items()}
        crit = e['critical']
        m = Marker(
            canonical=e['canonical'], name=e['name'], specialty=e['specialty'], aliases=tuple(e['aliases']),
            unit=e['unit'], conversions=MappingProxyType(conv), offsets=MappingProxyType(offs),
            ranges=MappingProxyType(ranges), critical=None if crit is None else (crit[0], crit[1]),
            plausible=(float(e['plausible'][0]), float(e['plausible'][1])),
        )
        markers.append(m)
        for alias in (m.canonical.replace('_', ' '), m.name, *m.aliases):
            bucket = index.setdefault(name_key(alias), [])
            if m not in bucket:
                bucket.append(m)
    qual = {name_key(a): q['canonical'] for q in raw['qualitative'] for a in q['aliases']}
    return _Catalogue(
        markers=tuple(markers), by_canonical=MappingProxyType({m.canonical: m for m in markers}),
        index=MappingProxyType({k: tuple(v) for k, v in index.items()}), qualitative=MappingProxyType(qual),
    )


@lru_cache(maxsize=1)
def _catalogue() -> _Catalogue:
    return _load()


def all_markers() -> tuple[Marker, ...]:
    """Every marker in catalogue order."""
    return _catalogue().markers


def get(canonical: str) -> Marker | None:
    """The marker with this canonical key, or None."""
    return _catalogue().by_canonical.get(canonical)


def _key_variants(name: str) -> list[str]:
    """Keys to try for ``name``, most specific first."""
    out = [name_key(name)]
    out.append(name_key(_PAREN_RE.sub(' ', name)))
    out.extend(name_key(inner) for inner in _PAREN_INNER_RE.findall(name))
    segments = _SEGMENT_RE.split(_PAREN_RE.sub(' ', name))
    if len(segments) > 1:
        out.extend(name_key(seg) for seg in segments)
    words = [w for w in out[1].split() if w not in _NOISE]
    if words:
        out.append(' '.join(words))
        for n in range(len(words) - 1, 0, -1):
            if _MEANINGFUL.intersection(words[n:]):
                break
            out.append(' '.join(words[:n]))
    return out


@lru_cache(maxsize=4096)
def _candidates(name: str) -> tuple[Marker, ...]:
    index = _catalogue().index
    for key in _key_variants(name):
        if key and key in index:
            return index[key]
    return ()


@lru_cache(maxsize=4096)
def is_alias(name: str) -> bool:
    """Whether ``name`` (or ``name`` without its parenthesised parts) is itself a known alias, not a longer text."""
    index = _catalogue().index
    return name_key(name) in index or name_key(_PAREN_RE.sub(' ', name)) in index


def lookup_all(name: str) -> tuple[Marker, ...]:
    """Every marker ``name`` could mean (several for ``Neutrophils``: % and absolute)."""
    return _candidates(name)


def _hint(name: str, context: str) -> Literal['pct', 'abs', '']:
    low = name.lower()
    if '#' in low or re.search(r'\babs(?:olute)?\b', low):
        return 'abs'
    if '%' in low or 'percent' in low:
        return 'pct'
    if re.search(r'\babs(?:olute)?\b', context.lower()):
        return 'abs'
    return ''


def lookup(name: str, unit: str = '', *, value: float | None = None, context: str = '') -> Marker | None:
    """The marker a printed test name (and unit) refers to, or None.

    ``unit`` separates percentages from absolute counts; ``context`` (the section heading)
    and ``value`` break remaining ties, e.g. ``Neutrophils`` under "Absolute Leucocyte Count".
    """
    cands = _candidates(name)
    if not cands:
        return None
    if len(cands) == 1:
        return _sibling_for_unit(cands[0], unit)
    if normalise_unit(unit):
        fits = tuple(m for m in cands if m.accepts_unit(unit))
        if fits:
            cands = fits
    if len(cands) > 1:
        hint = _hint(name, context)
        if hint:
            fits = tuple(m for m in cands if (m.unit == '%') == (hint == 'pct'))
            cands = fits or cands
    if len(cands) > 1 and value is not None:
        fits = tuple(m for m in cands if is_plausible(m, value, unit))
        cands = fits or cands
    return cands[0]


def _sibling_for_unit(marker: Marker, unit: str) -> Marker:
    """``Lymphs (Absolute)`` printed in 10^3/uL while only the % marker knows the alias: use the count."""
    if not normalise_unit(unit) or marker.accepts_unit(unit):
        return marker
    base, _, kind = marker.canonical.rpartition('_')
    if kind in ('pct', 'abs'):
        other = get(f'{base}_{"abs" if kind == "pct" else "pct"}')
        if other is not None and other.accepts_unit(unit):
            return other
    return marker


@lru_cache(maxsize=4096)
def lookup_qualitative(name: str) -> str:
    """Canonical key of a qualitative test (``'urine_protein'``), or ``''``."""
    qual = _catalogue().qualitative
    for key in _key_variants(name)[:4]:
        if key in qual:
            return qual[key]
    return ''


def to_canonical(value: float, unit: str, marker: Marker) -> float | None:
    """``value`` printed in ``unit`` converted to the marker's canonical unit; None if the unit is unknown.

    A blank unit converts only for unitless markers (ratios), since guessing would be wrong for
    labs that print SI units.
    """
    nu = normalise_unit(unit)
    if nu == marker.unit_key:
        return value
    factor = marker.conversions.get(nu)
    if factor is None:
        return None
    return value * factor + marker.offsets.get(nu, 0.0)


def is_plausible(marker: Marker, value: float, unit: str = '') -> bool:
    """Whether ``value`` in ``unit`` is physiologically possible for ``marker``.

    With an unknown or missing unit the value passes if it is possible in the canonical unit or
    in any unit the catalogue knows for the marker.
    """
    lo, hi = marker.plausible
    canonical = to_canonical(value, unit, marker)
    if canonical is not None:
        return lo <= canonical <= hi
    if lo <= value <= hi:
        return True
    return any(lo <= value * f + marker.offsets.get(u, 0.0) <= hi for u, f in marker.conversions.items())


def default_range(marker: Marker, sex: str | None) -> Bounds | None:
    """The adult default range for ``sex`` ('male' / 'female' / None); None when it depends on an unknown sex."""
    if sex is not None and sex in marker.ranges:
        return marker.ranges[sex]
    return marker.ranges.get('any')
