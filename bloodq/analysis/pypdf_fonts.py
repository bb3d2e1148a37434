"""Parse each font of a PDF once per document, not once per page that uses it.

pypdf builds a ``Font`` (widths, encoding, ToUnicode CMap) from the font dictionary of every
page it extracts, although the pages of a report share the same few fonts (59 builds for the
10-page sample, 25 with this; 2-10 % of its extraction time). While :func:`fonts_parsed_once` is active,
the ``Font`` built for a dictionary is reused whenever the same (indirect, so identical)
dictionary comes back. A ``Font`` depends only on its dictionary, and the one change pypdf
makes to it afterwards (its default space width) writes the same value every time.

This reaches into pypdf (``pypdf.generic._font.Font.from_font_resource``, pypdf 7); with a
pypdf that lacks it, extraction simply runs as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ['fonts_parsed_once']


def _font_class() -> Any:
    try:
        from pypdf.generic._font import Font
    except ImportError:
        return None
    return Font if isinstance(Font.__dict__.get('from_font_resource'), classmethod) else None


@contextlib.contextmanager
def fonts_parsed_once() -> Iterator[None]:
    """Within the block, pypdf parses a given font dictionary once (one document at a time)."""
    font_cls = _font_class()
    if font_cls is None:
        yield
        return
    original = font_cls.__dict__['from_font_resource']
    build = original.__get__(None, font_cls)
    seen: dict[int, tuple[Any, Any]] = {}

    def from_font_resource(pdf_font_dict: Any) -> Any:
        hit = seen.get(id(pdf_font_dict))
        if hit is not None and hit[0] is pdf_font_dict:
            return hit[1]
        font = build(pdf_font_dict)
        seen[id(pdf_font_dict)] = (pdf_font_dict, font)  # holding the dict keeps its id from being reused
        return font

    font_cls.from_font_resource = staticmethod(from_font_resource)
    try:
        yield
    finally:
        font_cls.from_font_resource = original
