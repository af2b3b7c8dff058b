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

from rules.schema import (Strict, allowed_keys, load_yaml, raise_validation, refuse_bad_patterns, refuse_unknown_values,
                          value_vocabularies)

GL7_DATA = Path(__file__).parent / "gl7_data.yaml"
WHAT = "第7.0版データファイル"


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
    data, root = load_yaml(Path(path), WHAT)
    try:
        model = Gl7Data.model_validate(data or {})
    except ValidationError as exc:
        raise_validation(exc, path, root, WHAT, allowed_keys(Gl7Data))
    _check_vocabulary(model, path, root)
    refuse_bad_patterns(path, root, WHAT, [(("update_responsibility", "stated_by", i), p)
                                           for i, p in enumerate(model.update_responsibility.stated_by)])
    return model


def _check_vocabulary(model: Gl7Data, path, root) -> None:
    """Concepts must be catalogue concepts and answers the model's answers (a typo would silently match nothing)."""
    from extractors.vocabulary import ANSWERS

    concepts = [(("betsushi", fam, i), c) for fam in ("mds", "sds")
                for i, c in enumerate(getattr(model.betsushi, fam))]
    answers = [(("betsushi", "accepted_answers", i), a) for i, a in enumerate(model.betsushi.accepted_answers)]
    for concept, words in model.update_responsibility.vendor_maintains.items():
        concepts.append((("update_responsibility", "vendor_maintains", concept), concept))
        answers += [(("update_responsibility", "vendor_maintains", concept, i), a) for i, a in enumerate(words)]
    refuse_unknown_values(path, root, WHAT, concepts, value_vocabularies()["concepts"], "概念",
                          "様式カタログにありません")
    refuse_unknown_values(path, root, WHAT, answers, ANSWERS, "回答",
                          "回答の語（" + "・".join(ANSWERS) + "）ではありません")


@functools.cache
def gl7_data() -> Gl7Data:
    """The shipped data, loaded once per process."""
    return load_gl7()
