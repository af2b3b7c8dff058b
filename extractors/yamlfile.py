"""The project's YAML data (form catalogues, rule families, mappings, patterns), read with PyYAML's safe loader
in its libyaml build when PyYAML has one. The pure-Python loader spent 0.1-0.6 s a process on the catalogue
alone, paid again by every reader worker; libyaml builds the same objects about ten times faster."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(source: str | Path) -> Any:
    """The data of a YAML text, or of the UTF-8 file at a Path."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader (CSafeLoader or SafeLoader)
