"""Property-based fuzzing of the readers: mutated real sample bytes never crash `extract`.

Every input either becomes a Document or raises `ExtractionError` with a Japanese message and a documented
kind — the failure the pipeline quarantines in `failed/`. Mutations: truncation, byte flips, shuffled or
dropped zip members, huge XML attributes, deep nesting, whitespace XML bombs. Bounded: `max_examples`
per format, `derandomize=True` (the same examples every run), no deadline.
"""
from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from extractors import extract
from extractors.model import Document, ExtractionError
from samples import hostile
from tests.fuzzing import SLOW_OK, examples

KINDS = {"corrupt", "empty", "encrypted", "not_a_form", "unsupported", "too_large", "legacy"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FUZZ = settings(max_examples=examples(60), suppress_health_check=SLOW_OK)
PDF_FUZZ = settings(FUZZ, max_examples=examples(25))  # a PDF costs ~0.5 s to read
STATS: dict[str, int] = {"inputs": 0, "documents": 0, "refused": 0, "crashes": 0}


@functools.lru_cache(maxsize=None)
def base(fmt: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return {"xlsx": hostile.good_xlsx_bytes, "docx": hostile.good_docx_bytes,
                "pdf": hostile.good_pdf_bytes}[fmt](Path(tmp))


@functools.lru_cache(maxsize=None)
def members(fmt: str) -> tuple[str, ...]:
    return tuple(n for n in hostile.zip_entries_dict(base(fmt)) if n.endswith((".xml", ".rels")))


def outcome(data: bytes, suffix: str) -> str:
    """Extract `data` saved as a file; return 'document' or the error kind; fail on anything else."""
    STATS["inputs"] += 1
    with tempfile.TemporaryDirectory(prefix="mdsgap-fuzz-") as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            doc = extract(path)
        except ExtractionError as exc:
            assert exc.kind in KINDS, exc.kind
            assert JAPANESE.search(exc.message), exc.message
            STATS["refused"] += 1
            return exc.kind
        except Exception:
            STATS["crashes"] += 1  # not a documented failure: the property fails
            raise
    assert isinstance(doc, Document)
    STATS["documents"] += 1
    return "document"


byte_mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0.0, 1.0)),
    st.tuples(st.just("flip"), st.lists(st.integers(0, 1 << 30), min_size=1, max_size=24),
              st.lists(st.integers(0, 255), min_size=24, max_size=24)),
)


def apply_bytes(data: bytes, mutation: tuple) -> bytes:
    if mutation[0] == "truncate":
        return hostile.truncate(data, int(len(data) * mutation[1]))
    return hostile.flip_bytes(data, mutation[1], mutation[2])


def zip_mutation(fmt: str):
    names = st.sampled_from(members(fmt))
    return st.one_of(
        byte_mutation,
        st.tuples(st.just("shuffle"), st.integers(0, 1 << 16)),
        st.tuples(st.just("drop"), st.integers(0, 200)),
        st.tuples(st.just("attribute"), names, st.integers(1, 4 * 1024 * 1024)),
        st.tuples(st.just("nest"), names, st.integers(1, 20_000)),
        st.tuples(st.just("member_flip"), names, st.lists(st.integers(0, 1 << 20), min_size=1, max_size=8)),
    )


def apply_zip(data: bytes, mutation: tuple) -> bytes:
    kind = mutation[0]
    if kind in ("truncate", "flip"):
        return apply_bytes(data, mutation)
    if kind == "shuffle":
        return hostile.shuffle_zip_members(data, mutation[1])
    if kind == "drop":
        return hostile.drop_member(data, mutation[1])
    if kind == "attribute":
        return hostile.inject_huge_attribute(data, mutation[1], mutation[2])
    if kind == "nest":
        return hostile.deep_nesting(data, mutation[1], mutation[2])
    member = hostile.zip_entries_dict(data)[mutation[1]]  # damage inside one XML part, zip still valid
    return hostile.replace_members(data, {mutation[1]: hostile.flip_bytes(member, mutation[2], [7] * 8)})


@FUZZ
@given(mutation=zip_mutation("xlsx"), suffix=st.sampled_from([".xlsx", ".xlsm", ".pdf", ""]))
@example(mutation=("truncate", 0.5), suffix=".xlsx")
@example(mutation=("nest", "xl/worksheets/sheet1.xml", 20_000), suffix=".xlsx")
def test_mutated_xlsx_never_crashes(mutation, suffix):
    outcome(apply_zip(base("xlsx"), mutation), suffix)


@FUZZ
@given(mutation=zip_mutation("docx"), suffix=st.sampled_from([".docx", ".docm", ".xlsx"]))
@example(mutation=("attribute", "word/document.xml", 4 * 1024 * 1024), suffix=".docx")
def test_mutated_docx_never_crashes(mutation, suffix):
    outcome(apply_zip(base("docx"), mutation), suffix)


@PDF_FUZZ
@given(mutation=byte_mutation, suffix=st.sampled_from([".pdf", ".xlsx"]))
@example(mutation=("truncate", 0.97), suffix=".pdf")  # a cut trailer: pdfminer's close() raised (fixed)
def test_mutated_pdf_never_crashes(mutation, suffix):
    outcome(apply_bytes(base("pdf"), mutation), suffix)


@pytest.mark.parametrize("fmt, member", [("xlsx", "xl/worksheets/sheet1.xml"), ("docx", "word/document.xml")])
def test_unmutated_bases_are_real_forms(fmt, member):
    """The fuzzer starts from files the readers accept (else it would only test the error path)."""
    assert member in hostile.zip_entries_dict(base(fmt))
    assert outcome(base(fmt), f".{fmt}") == "document"
    assert outcome(base("pdf"), ".pdf") == "document"


def test_zz_fuzz_summary(capsys):
    """Runs last in this file: how many inputs the fuzzer tried and how they ended."""
    with capsys.disabled():
        print(f"\nfuzz: {STATS['inputs']} mutated inputs: {STATS['documents']} read, {STATS['refused']} refused "
              f"with a Japanese reason, {STATS['crashes']} crashes")
    assert STATS["inputs"] >= 1
