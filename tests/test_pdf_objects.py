"""extractors.readers.pdf_objects makes the object dicts pdfplumber makes, on every sample PDF (born-digital and
scanned, every object type), so the readers see the same characters, rules, curves and images."""
from __future__ import annotations

import pdfplumber
import pytest

from extractors.readers.pdf_objects import use_fast_objects


def _objects(path, fast: bool) -> list[dict]:
    """Each page's objects by type, as (key, value) lists; a PDF stream (an image's data, an object without
    equality) as its repr."""
    pages = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            if fast:
                use_fast_objects(page)
            pages.append({kind: [[(k, repr(v) if k == "stream" else v) for k, v in obj.items()] for obj in objs]
                          for kind, objs in page.objects.items()})
    return pages


def test_the_object_dicts_are_pdfplumbers(sample_inbox):
    pdfs = []
    for path in sorted(sample_inbox.glob("*.pdf")):
        try:
            with pdfplumber.open(path) as pdf:
                pdf.pages[0].objects
        except Exception:  # noqa: BLE001 - the broken samples fail in pdfplumber too
            continue
        pdfs.append(path)
    assert len(pdfs) >= 10
    kinds = set()
    for path in pdfs:
        mine, theirs = _objects(path, fast=True), _objects(path, fast=False)
        assert mine == theirs, path.name
        kinds |= {kind for page in theirs for kind, objs in page.items() if objs}
    assert {"char", "rect", "line", "curve", "image"} <= kinds  # every kind of object was compared


@pytest.mark.parametrize("value", [1, 2.5, "MS-Gothic", None, True, (1.0, 0.0, 0.0, 1.0, 72.0, 700.5)])
def test_plain_values_are_kept_as_resolve_all_keeps_them(value):
    from pdfplumber.utils import resolve_all

    from extractors.readers.pdf_objects import _resolved

    assert _resolved(value) == resolve_all(value) and type(_resolved(value)) is type(resolve_all(value))


def test_pdfminers_per_token_debug_calls_are_dropped_and_its_warnings_kept(monkeypatch, caplog):
    """drop_parser_debug_calls: the parser's debug call does nothing (no log record, even with a handler that
    takes every level); a warning of the same logger still reaches the handlers; with pdfminer's debug on, the
    logger is left as it is."""
    import logging

    import pdfminer.pdfinterp
    import pdfminer.psparser

    from extractors.readers import pdf_objects

    for module in (pdfminer.psparser, pdfminer.pdfinterp):
        monkeypatch.setattr(module, "log", logging.getLogger(module.__name__))
    root = logging.getLogger("pdfminer")
    before = root.level
    try:
        root.setLevel(logging.WARNING)
        pdf_objects.drop_parser_debug_calls()
        pdf_objects.drop_parser_debug_calls()  # idempotent: not wrapped twice
        assert isinstance(pdfminer.psparser.log.logger, logging.Logger)
        with caplog.at_level(logging.DEBUG, logger="pdfminer.psparser"):
            pdfminer.psparser.log.debug("nexttoken: %r", 1)
            pdfminer.psparser.log.warning("broken stream %s", "x")
        assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("WARNING", "broken stream x")]

        monkeypatch.setattr(pdfminer.pdfinterp, "log", logging.getLogger("pdfminer.pdfinterp"))
        root.setLevel(logging.DEBUG)
        pdf_objects.drop_parser_debug_calls()
        assert isinstance(pdfminer.pdfinterp.log, logging.Logger)
    finally:
        root.setLevel(before)


@pytest.mark.parametrize("name", ["DeviceGray", "DeviceRGB", b"DeviceCMYK", b"\xfe\xff\x00C\x00S\x000", "Cs\x8d1",
                                  "ICCBased"])
def test_colour_space_names_decode_as_pdfplumber_decodes_them(name):
    from pdfminer.psparser import LIT
    from pdfplumber.utils import resolve_and_decode

    from extractors.readers.pdf_objects import _decoded_name

    for _ in range(2):  # the first call decodes, the second takes the decoded name
        assert _decoded_name(name) == resolve_and_decode(name)
    literal = LIT(name if isinstance(name, str) else name.decode("latin-1"))
    assert _decoded_name(literal) == resolve_and_decode(literal)
