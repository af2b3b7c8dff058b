"""A file in, a `Document` out."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from extractors.model import Document, ExtractionError, Item, Location

__all__ = ["extract", "file_sha256", "Document", "Item", "Location", "ExtractionError"]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extract(path: Path | str, sha256: str | None = None, timings: dict[str, float] | None = None) -> Document:
    """Read one vendor file and interpret it. Raises ExtractionError (Japanese message) for bad input.

    `timings`, when given, receives the seconds spent reading ("read") and interpreting ("interpret").
    """
    from extractors.interpret import interpret
    from extractors.readers import read

    path = Path(path)
    timings = {} if timings is None else timings
    start = time.perf_counter()
    from extractors.feeds import detect, read_feed

    feed_kind = detect(path)  # vulnerability feeds and SBOMs (JSON / JVN XML): records, not a table
    if feed_kind is not None:
        try:
            return read_feed(path, sha256 or file_sha256(path), feed_kind)
        finally:
            timings["read"] = time.perf_counter() - start
    try:
        grid = read(path)
    finally:
        timings["read"] = time.perf_counter() - start
    start = time.perf_counter()
    try:
        from extractors.ledger import read_ledger

        ledger = read_ledger(grid, sha256 or file_sha256(path))  # a device ledger (機器台帳), not a form
        if ledger is not None:
            return ledger
        return interpret(grid, sha256 or file_sha256(path))
    finally:
        timings["interpret"] = time.perf_counter() - start
