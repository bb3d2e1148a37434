"""Reference ranges printed away from their results, joined back to them.

Some labs (Thyrocare and many small-lab systems) print a results table without ranges and then a
``Reference Ranges :`` block that lists ``NAME : range unit`` for each test, on the same page or
the next. The parser records every such line as a :class:`RangeDef` while it is inside that block;
:func:`join_ranges` then gives each row that has no printed range the range of the definition that
names the same analyte (the same catalogue marker, or the same normalised name), preferring the
first definition printed after the row. A definition whose unit contradicts the row's is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from bloodq.analysis import catalogue
from bloodq.analysis.catalogue import name_key, normalise_unit
from bloodq.analysis.lines import Tok
from bloodq.analysis.rows import Draft, pick_range

__all__ = ['RangeDef', 'join_ranges']


@dataclass(slots=True)
class RangeDef:
    """One ``NAME : range [unit]`` line of a reference block."""

    name: str
    ranges: list[Tok]
    unit: str
    seq: int  #: position in the report (line counter), to prefer the block after the row

    def canonical(self) -> str:
        """The catalogue key the definition's name resolves to, '' when unknown."""
        marker = catalogue.lookup(self.name, self.unit)
        return marker.canonical if marker else ''


def _same_test(draft: Draft, d: RangeDef, canonical: str) -> bool:
    if draft.marker is not None and canonical:
        return draft.marker.canonical == canonical
    return name_key(draft.name) == name_key(d.name)


def _units_agree(draft: Draft, d: RangeDef) -> bool:
    if not draft.unit or not d.unit:
        return True
    # '%' against '10^3/ul' is another marker; 'g/L' against 'g/dL' would need a converted range: refuse both
    return normalise_unit(draft.unit) == normalise_unit(d.unit)


def join_ranges(drafts: list[Draft], seqs: list[int], defs: list[RangeDef], sex: str | None) -> None:
    """Give rows without a printed range the range their reference block prints (in place)."""
    if not defs:
        return
    canon = [d.canonical() for d in defs]
    for draft, seq in zip(drafts, seqs, strict=True):
        if draft.range_tok is not None:
            continue
        fits = [i for i, d in enumerate(defs) if _same_test(draft, d, canon[i]) and _units_agree(draft, d)]
        if not fits:
            continue
        after = [i for i in fits if defs[i].seq > seq]
        best = defs[after[0] if after else fits[-1]]
        draft.range_tok = pick_range(best.ranges, sex)
