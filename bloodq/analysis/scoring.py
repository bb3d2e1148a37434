"""Score a :class:`ParsedReport` against a hand-checked truth file (``*.truth.json``).

Rows are matched on value plus canonical key or name; when a name appears twice (Lymphocytes as
% and as an absolute count) the unit decides which truth row an extracted row belongs to.
Recall and precision count (name, value) pairs; unit, range and flag accuracy are measured on the
matched rows only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bloodq.analysis.catalogue import name_key
from bloodq.analysis.model import LabResult, ParsedReport
from bloodq.analysis.unitlex import normalise_unit

__all__ = ['Score', 'load_truth', 'score_report']


@dataclass(slots=True)
class Score:
    """How a parse compares with its truth file."""

    report: str
    truth_rows: int
    found_rows: int
    matched: int
    unit_ok: int = 0
    range_ok: int = 0
    flag_ok: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of truth rows found."""
        return self.matched / self.truth_rows if self.truth_rows else 1.0

    @property
    def precision(self) -> float:
        """Share of extracted rows that are truth rows."""
        return self.matched / self.found_rows if self.found_rows else 1.0

    def _share(self, n: int) -> float:
        return n / self.matched if self.matched else 1.0

    @property
    def unit_accuracy(self) -> float:
        """Matched rows whose printed unit is right."""
        return self._share(self.unit_ok)

    @property
    def range_accuracy(self) -> float:
        """Matched rows whose low and high bounds are right."""
        return self._share(self.range_ok)

    @property
    def flag_accuracy(self) -> float:
        """Matched rows whose flag is right."""
        return self._share(self.flag_ok)

    @property
    def worst(self) -> float:
        """The lowest of the five figures (what a threshold is checked against)."""
        return min(self.recall, self.precision, self.unit_accuracy, self.range_accuracy, self.flag_accuracy)

    def line(self) -> str:
        """One printable summary line."""
        return (f'{self.report:<22} rows {self.matched:>3}/{self.truth_rows:<3} found {self.found_rows:<3} '
                f'recall {self.recall:7.2%}  precision {self.precision:7.2%}  unit {self.unit_accuracy:7.2%}  '
                f'range {self.range_accuracy:7.2%}  flag {self.flag_accuracy:7.2%}')


def load_truth(path: Path) -> dict[str, Any]:
    """Read a truth JSON file."""
    data: dict[str, Any] = json.loads(path.read_text(encoding='utf-8'))
    return data


def _same_value(row: LabResult, truth: dict[str, Any]) -> bool:
    return abs(row.value - float(truth['value'])) <= 1e-9 * max(1.0, abs(row.value))


def _same_test(row: LabResult, truth: dict[str, Any]) -> bool:
    # the same key, or the same printed name: truth files written elsewhere may key analytes differently
    if truth.get('canonical') and row.canonical == truth['canonical']:
        return True
    return name_key(row.name) == name_key(str(truth['name']))


def _close(a: float | None, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - float(b)) <= 1e-9 * max(1.0, abs(a))


def score_report(parsed: ParsedReport, truth: dict[str, Any], label: str = '') -> Score:
    """Compare ``parsed`` with ``truth`` (the loaded truth JSON)."""
    rows = list(parsed.results)
    score = Score(label or str(truth.get('id', '?')), len(truth['results']), len(rows), 0)
    free = list(range(len(rows)))
    pairs: dict[int, int] = {}
    # two passes so a duplicate name takes the row with its own unit before any other
    for exact in (True, False):
        for k, t in enumerate(truth['results']):
            if k in pairs:
                continue
            unit = normalise_unit(str(t['unit']))
            cands = [i for i in free if _same_value(rows[i], t) and _same_test(rows[i], t)
                     and (not exact or normalise_unit(rows[i].unit) == unit)]
            if cands:
                pairs[k] = cands[0]
                free.remove(cands[0])
    for k, t in enumerate(truth['results']):
        if k not in pairs:
            score.problems.append(f'missing: {t["name"]} = {t["value_text"]} {t["unit"]} (page {t["page"]})')
            continue
        row = rows[pairs[k]]
        score.matched += 1
        if ' '.join(row.unit.split()) == ' '.join(str(t['unit']).split()):
            score.unit_ok += 1
        else:
            score.problems.append(f'unit: {t["name"]}: {row.unit!r} != {t["unit"]!r}')
        if _close(row.ref_low, t['ref_low']) and _close(row.ref_high, t['ref_high']):
            score.range_ok += 1
        else:
            score.problems.append(f'range: {t["name"]}: {row.ref_low}-{row.ref_high} != {t["ref_low"]}-{t["ref_high"]}')
        if row.flag == t['flag']:
            score.flag_ok += 1
        else:
            score.problems.append(f'flag: {t["name"]}: {row.flag} != {t["flag"]}')
    for i in free:
        r = rows[i]
        score.problems.append(f'extra: {r.name} = {r.value_text} {r.unit} (page {r.page})')
    return score
