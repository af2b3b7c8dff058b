"""The concept mappings of `rules/mappings/concepts.yaml`, validated and compiled for the checks.

A mapping names catalogue concepts (`extractors/catalogue/*.yaml` `concept:`); a misspelt concept would make a
check silently never fire, so loading refuses it with a Japanese message naming the file, the line and the key.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from pydantic import ValidationError

from rules.schema import (ConceptMappings, allowed_keys, load_yaml, raise_validation, refuse_bad_patterns,
                          refuse_unknown_values, value_vocabularies)

MAPPINGS_FILE = Path(__file__).parent / "mappings" / "concepts.yaml"
WHAT = "マッピングファイル"


def load_mappings(path: Path = MAPPINGS_FILE) -> ConceptMappings:
    """The validated mappings of `path`; raises rules.schema.ConfigError (Japanese, with the line)."""
    data, root = load_yaml(path, WHAT)
    try:
        mappings = ConceptMappings.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise_validation(exc, path, root, WHAT, allowed_keys(ConceptMappings))
    refuse_unknown_values(path, root, WHAT, mappings.concept_locations(), value_vocabularies()["concepts"],
                          "概念", "様式カタログにありません")
    refuse_bad_patterns(path, root, WHAT, mappings.patterns())
    refuse_unknown_values(path, root, WHAT, mappings.mds2_id_locations(), _mds2_ids(), "質問ID",
                          "MDS2 の様式カタログにありません")
    return mappings


def _mds2_ids() -> frozenset[str]:
    from extractors.forms import all_forms

    return frozenset(i.id for f in all_forms() if f.family == "mds2" for i in f.items)


@functools.cache
def concept_mappings() -> ConceptMappings:
    """The built-in mappings, loaded once per process."""
    return load_mappings()


def transport_words(mappings: ConceptMappings) -> tuple[tuple[re.Pattern, tuple[str, ...], str], ...]:
    """(compiled pattern, bullet concepts, label) for each line type, in the file's order."""
    return tuple((re.compile(w.pattern, re.I if w.ignore_case else 0), tuple(w.concepts), w.label)
                 for w in mappings.transport_words)
