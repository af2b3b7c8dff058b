"""The guideline 第7.0版 facts the gl7 rules use (`rules/gl7_data.yaml`), validated on load.

Dates and lists from secondary sources are data, not code: a hospital corrects the YAML when it has the official
text. `load_gl7()` raises `rules.schema.ConfigError` (Japanese, with the line) for a wrong key or value.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

from pydantic import ValidationError

from rules.schema import Strict, allowed_keys, load_yaml, raise_validation

GL7_DATA = Path(__file__).parent / "gl7_data.yaml"


class Guideline(Strict):
    name: str
    issued: dt.date
    previous: str = ""
    status: str = ""


class TwoFactor(Strict):
    reference_date: dt.date
    status: str = ""


class Betsushi(Strict):
    status: str = ""
    accepted_answers: list[str]
    mds: list[str]
    sds: list[str]


class UpdateResponsibility(Strict):
    status: str = ""
    vendor_maintains: dict[str, list[str]]
    stated_by: list[str]


class Gl7Data(Strict):
    guideline: Guideline
    two_factor: TwoFactor
    betsushi: Betsushi
    update_responsibility: UpdateResponsibility

    def betsushi_concepts(self, family: str) -> set[str]:
        return set(getattr(self.betsushi, family, []) or []) if family in ("mds", "sds") else set()

    @functools.cached_property
    def responsibility_patterns(self) -> list[re.Pattern]:
        return [re.compile(p) for p in self.update_responsibility.stated_by]


def load_gl7(path: Path | str = GL7_DATA) -> Gl7Data:
    data, root = load_yaml(Path(path), "第7.0版データファイル")
    try:
        model = Gl7Data.model_validate(data or {})
    except ValidationError as exc:
        raise_validation(exc, path, root, "第7.0版データファイル", allowed_keys(Gl7Data))
    _check_vocabulary(model, path, root)
    for i, pattern in enumerate(model.update_responsibility.stated_by):
        try:
            re.compile(pattern)
        except re.error as e:
            from rules.schema import ConfigError, where
            raise ConfigError(f"{where(path, root, ('update_responsibility', 'stated_by', i), '第7.0版データファイル')}:"
                              f" 正規表現「{pattern}」が正しくありません（{e}）") from None
    return model


def _check_vocabulary(model: Gl7Data, path, root) -> None:
    """Concepts must be catalogue concepts and answers the model's answers (a typo would silently match nothing)."""
    from extractors.model import ANSWERS
    from rules.schema import ConfigError, did_you_mean, value_vocabularies, where

    concepts = value_vocabularies()["concepts"]
    checks = [(("betsushi", fam, i), c, concepts) for fam in ("mds", "sds")
              for i, c in enumerate(getattr(model.betsushi, fam))]
    checks += [(("betsushi", "accepted_answers", i), a, set(ANSWERS))
               for i, a in enumerate(model.betsushi.accepted_answers)]
    for concept, answers in model.update_responsibility.vendor_maintains.items():
        checks.append((("update_responsibility", "vendor_maintains", concept), concept, concepts))
        checks += [(("update_responsibility", "vendor_maintains", concept, i), a, set(ANSWERS))
                   for i, a in enumerate(answers)]
    for loc, value, vocabulary in checks:
        if value not in vocabulary:
            hint = did_you_mean(value, vocabulary)
            raise ConfigError(f"{where(path, root, loc, '第7.0版データファイル')}: 「{value}」は使えません"
                              + (f"（{hint}）" if hint else ""))


@functools.cache
def gl7_data() -> Gl7Data:
    """The shipped data, loaded once per process."""
    return load_gl7()
