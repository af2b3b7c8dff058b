"""pdfplumber's object dicts (`Page.chars`, `.rects`, `.lines`, `.curves`, `.images`), made with less work.

pdfplumber 0.11.10's `Page.process_object` turns every pdfminer layout object into a dict, and passes each of
its attributes through `resolve_all`, which rebuilds tuples and lists element by element to resolve indirect
PDF references. The attributes of a character are plain numbers and strings (and tuples of them), so for a
dense form that copying was about a third of pdfplumber's own object work. `process_object` here makes the
same dicts (equal keys and values, same order), only passes to `resolve_all` what could hold a reference, and
decodes each colour space's name once, not once per object (`_decoded_name`);
tests/test_pdf_objects.py compares it with pdfplumber's on every sample PDF. It follows pdfplumber's code
line by line: the version is pinned (pyproject.toml), and the test fails if an upgrade changes the dicts.

`drop_parser_debug_calls()`: pdfminer's parser and interpreter call `log.debug(...)` for every token and
operator (about 23,000 calls for a page of a dense form). Each call is a Python frame even when debug is off:
about 2% of reading a PDF, measured file by file alternately. With pdfminer's debug off, their module
loggers get a `debug` that is a C-level callable doing nothing; every other level goes to the real logger.
"""
from __future__ import annotations

import importlib
import logging
import types
from functools import lru_cache

from pdfminer.layout import LTChar, LTCurve, LTTextContainer
from pdfplumber.page import ALL_ATTRS, fix_fontname_bytes, lt_pat, normalize_unicode
from pdfplumber.utils import resolve_all, resolve_and_decode

_PLAIN = frozenset({int, float, str, bool, type(None)})


def _resolved(value):
    """`resolve_all(value)`: a plain value, or a tuple of plain values, has nothing to resolve."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple and _PLAIN.issuperset(map(type, value)):
        return value  # resolve_all would build an equal tuple
    return resolve_all(value)


def _decoded_name(name):
    """`resolve_and_decode(name)` of a colour space's name: a str or bytes name (what pdfminer gives) decodes
    the same every time, so it is decoded once (pdfplumber decodes it character by character for every
    character of the page: a third of its object work)."""
    if type(name) in (str, bytes):
        return _decode_once(name)
    return resolve_and_decode(name)


@lru_cache(maxsize=256)
def _decode_once(name: str | bytes):
    return resolve_and_decode(name)


@lru_cache(maxsize=None)
def _kind(cls: type) -> str:
    return lt_pat.sub("", cls.__name__).lower()


def process_object(self, obj) -> dict:
    """pdfplumber.page.Page.process_object (0.11.10), with `_resolved` for its attribute copy."""
    attr = {k: _resolved(v) for k, v in obj.__dict__.items() if k in ALL_ATTRS}
    attr["object_type"] = _kind(obj.__class__)
    attr["page_number"] = self.page_number

    for cs in ["ncs", "scs"]:
        if hasattr(obj, cs):
            attr[cs] = _decoded_name(getattr(obj, cs).name)

    if isinstance(obj, (LTChar, LTTextContainer)):
        text = obj.get_text()
        attr["text"] = (normalize_unicode(self.pdf.unicode_norm, text)
                        if self.pdf.unicode_norm is not None else text)

    if isinstance(obj, LTChar):
        gs = obj.graphicstate
        attr["stroking_color"] = gs.scolor if isinstance(gs.scolor, tuple) else (gs.scolor,)
        attr["non_stroking_color"] = gs.ncolor if isinstance(gs.ncolor, tuple) else (gs.ncolor,)
        if isinstance(attr["fontname"], bytes):
            attr["fontname"] = fix_fontname_bytes(attr["fontname"])
    elif isinstance(obj, (LTCurve,)):
        attr["pts"] = list(map(self.point2coord, attr["pts"]))
        attr["path"] = [(cmd, *map(self.point2coord, pts)) for cmd, *pts in obj.original_path]
        attr["dash"] = obj.dashing_style

    mb_x0, mb_top = self.mediabox[:2]
    if "y0" in attr:
        attr["top"] = (self.height - attr["y1"]) + mb_top
        attr["bottom"] = (self.height - attr["y0"]) + mb_top
        attr["doctop"] = self.initial_doctop + attr["top"]
    if "x0" in attr and mb_x0 != 0:
        attr["x0"] = attr["x0"] + mb_x0
        attr["x1"] = attr["x1"] + mb_x0
    return attr


def use_fast_objects(page):
    """`page` (a pdfplumber Page whose objects are not parsed yet) makes its object dicts with `process_object`."""
    page.process_object = types.MethodType(process_object, page)
    return page


_PARSER_MODULES = ("pdfminer.psparser", "pdfminer.pdfinterp")
_discard = "".format  # takes any arguments and does nothing, without a Python frame


class _WithoutDebug:
    """A pdfminer module logger whose debug calls cost nothing; the other levels are the logger's own."""

    debug = staticmethod(_discard)

    def __init__(self, logger: logging.Logger):
        self.logger = logger

    def __getattr__(self, name: str):
        return getattr(self.logger, name)


def drop_parser_debug_calls() -> None:
    """Replace the per-token `log.debug` of pdfminer's parser and interpreter, unless pdfminer's debug is on
    (then its debug lines are written as before). Idempotent."""
    for name in _PARSER_MODULES:
        module = importlib.import_module(name)
        logger = module.log
        if not isinstance(logger, _WithoutDebug) and not logger.isEnabledFor(logging.DEBUG):
            module.log = _WithoutDebug(logger)
