"""The data the analysis layers hand to each other.

``extract`` turns PDF bytes into page texts, ``parser`` turns texts into a
:class:`ParsedReport`, ``interpret`` turns that into an :class:`Interpretation`, and
``pipeline`` joins them into the JSON ``result`` a job stores. Everything here is
plain data: flat frozen dataclasses (scalars and lists of strings) that :func:`record` turns into dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

Flag = Literal['low', 'normal', 'high']
Severity = Literal['critical', 'high', 'moderate', 'low', 'info']


@dataclass(frozen=True, slots=True)
class LabResult:
    """One numeric result row as printed on the report."""

    name: str  #: test name as printed, whitespace collapsed
    canonical: str  #: stable key from the catalogue (``hemoglobin``); ``''`` when unknown
    value: float
    unit: str  #: as printed, ``''`` when none
    ref_low: float | None
    ref_high: float | None
    ref_text: str  #: printed range text, ``''`` when none
    flag: Flag | None  #: value against the printed range, bounds inclusive; None without a range
    panel: str = ''  #: section heading the row sits under
    page: int = 0  #: 1-based page number
    value_text: str = ''  #: the exact printed token
    ref_source: Literal['printed', 'catalogue', 'none'] = 'printed'


@dataclass(frozen=True, slots=True)
class QualitativeResult:
    """A result printed as text (``Negative``, ``Reactive``, ``Pale yellow``)."""

    name: str
    canonical: str
    value_text: str
    ref_text: str = ''
    panel: str = ''
    page: int = 0


@dataclass(frozen=True, slots=True)
class Patient:
    """What the report prints about the patient; names are never kept."""

    age: float | None = None  #: years
    sex: Literal['male', 'female'] | None = None
    collected: str | None = None  #: ISO date (YYYY-MM-DD)


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """Everything the parser found on a report."""

    results: list[LabResult]
    qualitative: list[QualitativeResult] = field(default_factory=list)
    patient: Patient = field(default_factory=Patient)
    pages: int = 0


@dataclass(frozen=True, slots=True)
class DerivedValue:
    """A value computed from printed results (eGFR, non-HDL, ratios)."""

    name: str
    canonical: str
    value: float
    unit: str
    inputs: list[str]  #: canonical keys it was computed from
    note: str = ''


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a specialist would say about the results."""

    specialty: str  #: haematology | metabolic | lipids | liver | kidney | thyroid | vitamins | ...
    severity: Severity
    title: str  #: plain-language headline
    detail: str
    markers: list[str]  #: canonical keys the finding rests on


@dataclass(frozen=True, slots=True)
class Interpretation:
    """The readable meaning of a parsed report."""

    findings: list[Finding]  #: critical first
    specialists_consulted: list[str]
    derived: list[DerivedValue]
    answer: str  #: the reply to the user's query, leading with what it asked about
    recommendations: dict[str, list[str]]  #: keys: nutrition, exercise, follow_up
    analysis: str  #: the full plain-text analysis, fit for a terminal
    disclaimer: str


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def record(obj: Any) -> dict[str, Any]:
    """One of the flat records above as a dict: what ``dataclasses.asdict`` gives, without its recursive
    deep copy (which was most of the time spent composing a result)."""
    out: dict[str, Any] = {}
    for name in _field_names(type(obj)):
        value = getattr(obj, name)
        out[name] = list(value) if isinstance(value, list) else value
    return out
