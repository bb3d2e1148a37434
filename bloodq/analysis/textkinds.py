"""Cheap text tests that tell result lines from everything else on a report.

Reports surround their results with headers, addresses, notes, interpretation tables and
footers full of numbers. These tests look only at wording and shape, never at the values, so
they work for labs we have not seen.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ALNUM_RE = re.compile(r'[A-Za-z0-9]')
_TABLE_RULE_RE = re.compile(r'^[\s\-=_|+.*~]{4,}$')
_PAGE_RE = re.compile(r'^\W*page\s*:?\s*\d+\s*(?:of|/)\s*\d+\W*$|^\W*\d{5,}\W*$', re.IGNORECASE)
_PARENS_RE = re.compile(r'^\s*\((.*)\)\s*$')
_METHOD_LABEL_RE = re.compile(r'^\s*(?:method(?:ology)?|specimen|sample\s*type|instrument|technique)\s*[:\-]', re.IGNORECASE)
_BULLET_RE = re.compile(r'^\s*(?:\d{1,2}[.)]\s+[A-Za-z(]|[•·▪●■►Ÿ\-–]\s*[A-Za-z]|\(?[a-z]\)\s|\(?(?:i|ii|iii|iv|v)\)\s)')
_WORD_RE = re.compile(r'[A-Za-z][A-Za-z\'’]+')
_NOTE_RE = re.compile(
    r'^\W*(?:notes?|interpretations?|comments?|remarks?|clinical\s+(?:significance|notes?|information|use)|'
    r'disclaimer|limitations?|advice|suggestions?|important\s+instructions|decreased\s+levels?|'
    r'increased\s+levels?|references?|bibliography|summary|methods?|methodology)\b\W*$'
    r'|^\W*(?:notes?|interpretation|comments?|remarks?)\s*[:\-]',
    re.IGNORECASE,
)
_QUAL_WORD = (
    r'(?:non[\s\-]?reactive|reactive|not\s+detected|detected|negative|positive|nil|absent|present|trace|'
    r'(?:pale|light|dark|straw)\s+yellow|yellow|amber|clear|turbid|hazy|cloudy|normal)'
)
#: a whole line that is a text result (and maybe its reference): 'Negative', 'Pale Yellow Pale Yellow'
QUAL_LINE = re.compile(r'^' + _QUAL_WORD + r'(?:\s+' + _QUAL_WORD + r')?\s*$', re.IGNORECASE)
#: the text result at the start of such a line
QUAL_FIRST = re.compile(r'^' + _QUAL_WORD, re.IGNORECASE)
_END_RE = re.compile(r'end\s+of\s+(?:the\s+)?report', re.IGNORECASE)
FUNCTION_WORDS = frozenset([
    'the', 'is', 'are', 'was', 'were', 'of', 'in', 'on', 'for', 'to', 'and', 'with', 'by', 'be', 'as', 'at', 'an',
    'should', 'may', 'can', 'this', 'that', 'these', 'those', 'it', 'its', 'from', 'than', 'has', 'have', 'been',
    'which', 'when', 'if', 'or', 'per', 'due', 'between', 'during', 'after', 'before', 'such', 'any', 'all',
    'about', 'into', 'their', 'there', 'them', 'they', 'will', 'would', 'must', 'also', 'only', 'more', 'less',
    'most', 'our', 'your', 'you', 'we', 'please', 'kindly'
])
_HEADER_WORDS = frozenset([
    'test', 'tests', 'investigation', 'investigations', 'parameter', 'parameters', 'result', 'results', 'value',
    'values', 'observed', 'unit', 'units', 'reference', 'ref', 'range', 'ranges', 'interval', 'intervals',
    'biological', 'bio', 'flag', 'flags', 'method', 'specimen', 'status', 'normal', 'previous', 'current',
    'description', 'analyte', 'analytes', 'component', 'components', 'level'
])
#: words that mark a line as patient/lab administration, never a test name
_ADMIN = frozenset([
    'page', 'tel', 'telephone', 'phone', 'mob', 'mobile', 'fax', 'email', 'mail', 'www', 'http', 'https', 'age',
    'sex', 'gender', 'dob', 'name', 'patient', 'ref', 'referred', 'referring', 'refd', 'doctor', 'dr', 'consultant',
    'pathologist', 'collected', 'collection', 'received', 'reported', 'registered', 'printed', 'status', 'lab',
    'laboratory', 'barcode', 'accession', 'uhid', 'mrn', 'sample', 'specimen', 'address', 'sector', 'road',
    'street', 'floor', 'plot', 'nagar', 'city', 'pin', 'pincode', 'zip', 'years', 'yrs', 'months', 'days',
    'hospital', 'clinic', 'signature', 'signed', 'verified', 'approved', 'authorised', 'authorized', 'technologist',
    'technician', 'client', 'location', 'centre', 'center', 'branch', 'billing', 'bill', 'invoice', 'passport',
    'regn', 'reg', 'no'
])
_SPECIMEN_END_RE = re.compile(r'\b(?:serum|plasma|blood|urine|edta|whole\s+blood)\W*$', re.IGNORECASE)
_LONG_TOKEN_RE = re.compile(r'[A-Za-z0-9_.]{28,}')
_DIGIT_RE = re.compile(r'\d')
_LETTER_RE = re.compile(r'[^\W\d_]')
_UPPER_RE = re.compile(r'[A-Z]')


def is_blank(line: str) -> bool:
    """No letters or digits at all."""
    return _ALNUM_RE.search(line) is None


# Everything is_table_or_rule, is_page_marker, method_text and is_note_start can accept starts like this,
# holds a '|', 'page', 'report' or a trailing '*', or has no letter at all (a superset of them)
_STRUCTURE_START_RE = re.compile(
    r'[\W_]*(?:[(\-=_+.*~]|method|specimen|sample|instrument|technique|notes?\b|interpretation|comment|remark|'
    r'clinical|disclaimer|limitation|advice|suggestion|important|decreased|increased|reference|bibliograph|summary)',
    re.IGNORECASE,
)
_ASCII_LETTER_RE = re.compile(r'[A-Za-z]')


def maybe_structure(line: str) -> bool:
    """False only when the line cannot be a rule, table row, page marker, method line or note title.

    An anchored match and substring tests let the parser skip those four tests on most lines.
    """
    if '|' in line or line.endswith('*') or _STRUCTURE_START_RE.match(line) is not None:
        return True
    low = line.lower()
    return 'page' in low or 'report' in low or _ASCII_LETTER_RE.search(line) is None


def is_table_or_rule(line: str) -> bool:
    """An ASCII table row (``| a | b |``) or a rule line: interpretation tables, never result rows."""
    return line.count('|') >= 2 or _TABLE_RULE_RE.match(line) is not None


def is_page_marker(line: str) -> bool:
    """``Page 1 of 10``, or a line holding only a long number (lab or barcode number)."""
    return _PAGE_RE.match(line) is not None or line.strip().startswith('*') and line.strip().endswith('*')


def method_text(line: str) -> str | None:
    """The content of a method line (``(Photometry)``, ``Method: ISE``), else None."""
    m = _PARENS_RE.match(line)
    if m and '(' not in m.group(1) and ')' not in m.group(1):
        return m.group(1)
    if _METHOD_LABEL_RE.match(line):
        return line
    return None


def is_note_start(line: str) -> bool:
    """A line that opens notes, interpretation or comments (what follows is not results)."""
    if _NOTE_RE.match(line) is not None:
        return True
    return 'report' in line.lower() and _END_RE.search(line) is not None


@lru_cache(maxsize=8192)
def words(text: str) -> tuple[str, ...]:
    """The alphabetic words of ``text`` (two letters or more), lower-cased."""
    return tuple(w.lower() for w in _WORD_RE.findall(text))


def is_prose(line: str) -> bool:
    """Sentences, bullets and numbered notes: reading them as results is the classic false positive."""
    if _BULLET_RE.match(line):
        return True
    ws = words(line)
    if len(ws) >= 12:
        return True
    fn = sum(map(FUNCTION_WORDS.__contains__, ws))  # counted in C: this runs on every line
    if fn >= 3 or (fn >= 2 and len(ws) >= 5):
        return True
    return len(ws) >= 6 and fn >= 1 and line.rstrip().endswith('.') and not line.rstrip().endswith('..')


@lru_cache(maxsize=4096)
def header_columns(line: str) -> tuple[str, ...] | None:
    """The column words of a table header line (``Test Name Results Units Bio. Ref. Interval``), else None."""
    if _DIGIT_RE.search(line):
        return None
    ws = words(line)
    hits = [w for w in ws if w in _HEADER_WORDS]
    if len(set(hits)) >= 2 and len(hits) * 2 >= len(ws):
        return ws
    return None


_TITLE_WORDS = _HEADER_WORDS | {'name', 'names', 'lab', 'comment', 'comments', 'technology', 'methodology', 'no'}


def column_title(line: str) -> bool:
    """A column's own title cell (``Result``, ``Test Name``, ``Biological Ref. Interval``) or a header line."""
    if _DIGIT_RE.search(line):
        return False
    ws = words(line)
    return bool(ws) and len(ws) <= 8 and all(w in _TITLE_WORDS for w in ws)


_REF_TITLE_RE = re.compile(
    r'^\W*(?:(?:bio(?:logical)?\.?\s*)?ref(?:erence)?\.?|normal)\s*(?:ranges?|intervals?|values?)\b'
    r'\s*(?:\([^()]{1,30}\))?[\s.:\-]*$',
    re.IGNORECASE,
)


def is_reference_title(line: str) -> bool:
    """``Reference Ranges :``, ``Bio. Ref. Interval :-``: the title of a block listing ranges away from results."""
    return _REF_TITLE_RE.match(line) is not None


#: words that name how a test was measured, printed in a method column after the test name
METHOD_WORDS = frozenset([
    'clia', 'eclia', 'cmia', 'elisa', 'elfa', 'ria', 'ise', 'ifcc', 'hplc', 'photometry', 'photometric',
    'colorimetric', 'colorimetry', 'spectrophotometry', 'enzymatic', 'kinetic', 'calculated', 'calculation',
    'derived', 'immunoassay', 'immunoturbidimetry', 'immunoturbidimetric', 'turbidimetry', 'turbidimetric',
    'nephelometry', 'jaffe', 'jaffes', 'uricase', 'urease', 'gldh', 'biuret', 'bcg', 'bcp', 'god', 'pod', 'gpo',
    'chod', 'pap', 'oxidase', 'hexokinase', 'ferrozine', 'ferene', 'pnpp', 'amp', 'buffer', 'szasz', 'diazo',
    'dpd', 'arsenazo', 'ocpc', 'chemiluminescence', 'chemiluminescent', 'electrochemiluminescence', 'ecl',
    'impedance', 'impedence', 'flow', 'cytometry', 'microscopy', 'westergren', 'automated', 'manual', 'vcs',
    'technology', 'c.l.i.a', 'e.c.l.i.a', 'c.m.i.a', 'h.p.l.c', 'i.s.e', 'sls', 'modified', 'ion', 'selective',
    'electrode', 'competitive', 'sandwich', 'assay', 'method', 'lcms',
])


def previous_first(columns: tuple[str, ...]) -> bool:
    """Whether a header puts the previous result before the current one."""
    prev = next((i for i, w in enumerate(columns) if w in ('previous', 'prev', 'last', 'earlier')), None)
    cur = next((i for i, w in enumerate(columns) if w in ('result', 'results', 'current', 'value', 'observed')), None)
    return prev is not None and cur is not None and prev < cur


def is_admin(text: str) -> bool:
    """Patient/lab administration (names, addresses, phone, page, doctor) rather than a test."""
    return not _ADMIN.isdisjoint(words(text)) or _LONG_TOKEN_RE.search(text) is not None


def heading_like(text: str) -> bool:
    """Section headings are set in capitals (``LIPID SCREEN, SERUM``) or end with the specimen."""
    letters = len(_LETTER_RE.findall(text))
    if letters < 4:
        return False
    return len(_UPPER_RE.findall(text)) >= 0.7 * letters or _SPECIMEN_END_RE.search(text) is not None


_PANEL_WORDS_RE = re.compile(
    r'\b(?:panel|profile|function|screen(?:ing)?|studies|chemistry|biochemistry|metabolic|lipids?|thyroid|'
    r'ha?emogram|cbc|urinalysis|examination|haematology|hematology|serology|immunology|hormones?)\b',
    re.IGNORECASE,
)
_CONT_RE = re.compile(r'\s*[(\[]?\b(?:cont(?:d|inued)?)\b\.?[)\]]?\s*$', re.IGNORECASE)


def panel_title(text: str) -> bool:
    """Title-case panel names (``Comp. Metabolic Panel (14)``, ``Lipid Panel``) are headings too."""
    return _PANEL_WORDS_RE.search(text) is not None and len(words(text)) <= 8


def strip_continued(text: str) -> str:
    """``Lipid Panel (Cont.)`` -> ``Lipid Panel``: a panel continued from the previous page."""
    return _CONT_RE.sub('', text)


def strong_heading(text: str) -> bool:
    """A heading that also names a single test (``VITAMIN B12; CYANOCOBALAMIN, SERUM``)."""
    return heading_like(text) and (len(words(text)) >= 3 or _SPECIMEN_END_RE.search(text) is not None)
