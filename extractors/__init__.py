"""A file in, a `Document` out."""
from __future__ import annotations

import hashlib
from pathlib import Path

from extractors.model import Document, ExtractionError, Item, Location

__all__ = ["extract", "file_sha256", "Document", "Item", "Location", "ExtractionError"]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extract(path: Path | str, sha256: str | None = None) -> Document:
    """Read one vendor file and interpret it. Raises ExtractionError (Japanese message) for bad input."""
    from extractors.interpret import interpret
    from extractors.readers import read

    path = Path(path)
    grid = read(path)
    return interpret(grid, sha256 or file_sha256(path))
