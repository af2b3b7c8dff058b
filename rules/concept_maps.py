"""The concept mappings of `rules/mappings/concepts.yaml`, validated and compiled for the checks.

A mapping names catalogue concepts (`extractors/catalogue/*.yaml` `concept:`); a misspelt concept would make a
check silently never fire, so loading refuses it with a Japanese message naming the file, the line and the key.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from pydantic import ValidationError

from rules.schema import (ConceptMappings, ConfigError, allowed_keys, did_you_mean, key_label, load_yaml,
                          raise_validation, value_vocabularies, where)

MAPPINGS_FILE = Path(__file__).parent / "mappings" / "concepts.yaml"
WHAT = "マッピングファイル"


def load_mappings(path: Path = MAPPINGS_FILE) -> ConceptMappings:
    """The validated mappings of `path`; raises rules.schema.ConfigError (Japanese, with the line)."""
    data, root = load_yaml(path, WHAT)
    try:
        mappings = ConceptMappings.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise_validation(exc, path, root, WHAT, allowed_keys(ConceptMappings))
    known = value_vocabularies()["concepts"]
    for loc, concept in mappings.concept_locations():
        if concept not in known:
            hint = did_you_mean(concept, known)
            raise ConfigError(f"{where(path, root, loc, WHAT)}: 「{key_label(loc)}」の概念「{concept}」は様式カタログに"
                              f"ありません（{hint or '様式カタログ extractors/catalogue/*.yaml の concept を指定してください'}）")
    for loc, pattern in mappings.patterns():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{where(path, root, loc, WHAT)}: 「{key_label(loc)}」の正規表現「{pattern}」に"
                              f"誤りがあります（{exc.msg}）") from None
    return mappings


@functools.cache
def concept_mappings() -> ConceptMappings:
    """The built-in mappings, loaded once per process."""
    return load_mappings()


def transport_words(mappings: ConceptMappings) -> tuple[tuple[re.Pattern, tuple[str, ...], str], ...]:
    """(compiled pattern, bullet concepts, label) for each line type, in the file's order."""
    return tuple((re.compile(w.pattern, re.I if w.ignore_case else 0), tuple(w.concepts), w.label)
                 for w in mappings.transport_words)
