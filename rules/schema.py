"""Schemas of the YAML files a user edits (rule files, the `rules:` settings) and Japanese error messages.

Files are validated with pydantic (unknown keys forbidden); a pydantic error location is mapped back to
the YAML node it came from, so a message names the file, the line and the key:
`設定ファイル mdsgap.yaml 4行目: 「rules.disabld」は不明な項目です（もしかして: disabled、…）`.
"""
from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from extractors.model import Family
from extractors.yamlfile import SAFE_LOADER
from rules.findings import SEVERITIES



class ConfigError(ValueError):
    """A config or rule file the user must fix. The message is Japanese and names file, line and key."""


def load_yaml(path: Path, what: str) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML file and its node tree (for line numbers). `what` names the file kind in messages."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{what}を読めません: {path}（{e.strerror or e}）") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what}を読めません: {path}（UTF-8 で保存してください）") from e
    try:
        loader = SAFE_LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" {mark.line + 1}行目" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{what} {path}{where}: YAML の書き方に誤りがあります（{problem}）") from e
    _refuse_duplicate_keys(node, path, what)
    return data, node


def _refuse_duplicate_keys(node, path, what: str) -> None:
    """A key written twice in one mapping (YAML keeps only the last one, silently)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in cur.value:
                name = str(getattr(key, "value", ""))
                if isinstance(key, yaml.ScalarNode) and name in seen:
                    raise ConfigError(f"{what} {path} {key.start_mark.line + 1}行目: 項目「{name}」が同じ階層に"
                                      "2回書かれています（後の記載だけが使われるため、1つにまとめてください）")
                seen.add(name)
                stack.append(value)
        elif isinstance(cur, yaml.SequenceNode):
            stack.extend(cur.value)


def node_at(node: yaml.Node | None, loc: tuple) -> tuple[yaml.Node | None, bool]:
    """The deepest node along `loc` (mapping keys / sequence indexes) and whether the whole path was found.

    For a mapping key the key's node is returned (its line is where the user wrote the key)."""
    found = node
    for i, part in enumerate(loc):
        if isinstance(found, yaml.MappingNode):
            match = next(((k, v) for k, v in found.value if str(getattr(k, "value", "")) == str(part)), None)
            if match is None:
                return found, False
            key, value = match
            found = key if i == len(loc) - 1 else value
        elif isinstance(found, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(found.value):
            found = found.value[part]
        else:
            return found, False
    return found, True


def line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    found, _ = node_at(node, loc)
    return found.start_mark.line + 1 if found is not None else None


def where(path: Path | str, root: yaml.Node | None, loc: tuple, what: str = "設定ファイル") -> str:
    line = line_of(root, loc)
    return f"{what} {path}" + (f" {line}行目" if line else "")


def key_label(loc: tuple) -> str:
    return ".".join(str(p) if not isinstance(p, int) else f"[{p + 1}番目]" for p in loc).replace(".[", "[")


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"もしかして: {close[0]}" if close else ""


def refuse_unknown_values(path: Path | str, root: yaml.Node | None, what: str, located, vocabulary, noun: str,
                          explain: str) -> None:
    """Stop at the first (loc, value) of `located` whose value is not in `vocabulary` (a misspelt concept or
    answer would make a rule silently never fire): file, line, key and the nearest word, in Japanese."""
    for loc, value in located:
        if value not in vocabulary:
            hint = did_you_mean(value, vocabulary)
            raise ConfigError(f"{where(path, root, loc, what)}: 「{key_label(loc)}」の{noun}「{value}」は{explain}"
                              + (f"（{hint}）" if hint else ""))


def refuse_bad_patterns(path: Path | str, root: yaml.Node | None, what: str, located) -> None:
    """Stop at the first (loc, regular expression) of `located` that does not compile."""
    for loc, pattern in located:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{where(path, root, loc, what)}: 「{key_label(loc)}」の正規表現「{pattern}」に"
                              f"誤りがあります（{exc.msg}）") from None


_TYPE_WORDS = {
    "int": "整数", "float": "数値", "bool": "true / false", "list": "一覧（[a, b] または - で始まる行）",
    "dict": "項目: 値 の形式", "string": "文字列", "str": "文字列", "model": "項目: 値 の形式",
}


def _expected(err_type: str) -> str:
    for prefix, word in _TYPE_WORDS.items():
        if err_type.startswith(prefix):
            return word
    return ""


def describe_error(err: dict, allowed: dict[tuple, list[str]] | None = None) -> str:
    """One pydantic error as a Japanese sentence (without the file/line prefix)."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = key_label(loc)
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        choices = (allowed or {}).get(loc[:-1], [])
        hint = did_you_mean(loc[-1], choices)
        listed = f"使える項目: {', '.join(choices)}" if choices else ""
        extra = "、".join(x for x in (hint, listed) if x)
        return f"「{key}」は不明な項目です" + (f"（{extra}）" if extra else "")
    if kind == "missing":
        return f"必須の項目「{key}」がありません"
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        return f"「{key}」の値「{value}」は使えません（{'・'.join(options)}のいずれか）"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next(iter(err.get("ctx", {}).values()), "")
        word = {"greater_than_equal": "以上", "greater_than": "より大きい値", "less_than_equal": "以下",
                "less_than": "未満"}[kind]
        return f"「{key}」の値「{value}」は使えません（{limit} {word}で指定してください）"
    expected = _expected(kind)
    if kind.endswith("_type") or kind.endswith("_parsing") or expected:
        shown = "空欄" if value is None else f"「{value}」"
        return f"「{key}」の値{shown}の型が正しくありません" + (f"（{expected}で指定してください）" if expected else "")
    return f"「{key}」の値「{value}」が正しくありません"


def raise_validation(exc: ValidationError, path: Path | str, root: yaml.Node | None, what: str,
                     allowed: dict[tuple, list[str]] | None = None, prefix: tuple = ()) -> None:
    """Raise ConfigError naming file, line and key for each pydantic error (first errors first)."""
    errors = []
    for err in exc.errors():
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        errors.append({**err, "loc": loc})
    # A misspelt key is one mistake, not also a missing one: drop "missing X" when a key beside it looks like X.
    suggested = {(e["loc"][:-1], did_you_mean(e["loc"][-1], (allowed or {}).get(e["loc"][:-1], [])))
                 for e in errors if e["type"] == "extra_forbidden"}
    errors = [e for e in errors if not (e["type"] == "missing" and (e["loc"][:-1], f"もしかして: {e['loc'][-1]}")
                                        in suggested)]
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    lines = [f"{where(path, root, e['loc'], what)}: {describe_error(e, allowed)}" for e in errors]
    raise ConfigError("\n".join(dict.fromkeys(lines[:10]))) from None


def allowed_keys(model: type[BaseModel], prefix: tuple = ()) -> dict[tuple, list[str]]:
    """{location of a mapping: its keys} for the models nested in `model` (for the 使える項目 hint)."""
    out = {prefix: list(model.model_fields)}
    for name, f in model.model_fields.items():
        for arg in _model_args(f.annotation):
            out.update(allowed_keys(arg, prefix + (name,)))
    return out


def _model_args(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [a for arg in getattr(annotation, "__args__", ()) for a in _model_args(arg)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _as_list(value):
    return [value] if isinstance(value, str) else value


StrList = Annotated[list[str], BeforeValidator(_as_list)]  # `families: mds` or `families: [mds, sds]`


class RulesSection(Strict):
    """`rules_config.yaml`, or the `rules:` section of `mdsgap.yaml`."""

    disabled: Optional[list[str]] = None
    severity: Optional[dict[str, Literal[tuple(SEVERITIES)]]] = None  # type: ignore[valid-type]
    extra_rule_dirs: Optional[list[str]] = None


class AppliesTo(Strict):
    families: Optional[Annotated[list[Family], BeforeValidator(_as_list)]] = None
    forms: Optional[StrList] = None
    versions: Optional[StrList] = None


class RuleModel(Strict):
    """One rule of a rule file (`rules/catalog/*.yaml`, a hospital's extra rule directory)."""

    id: str
    title: str
    category: str
    severity: Optional[str] = None
    likelihood: Optional[str] = None
    impact: Optional[str] = None
    applies_to: Optional[AppliesTo] = None
    condition: dict[str, Any]
    rationale: str
    guideline_ref: Optional[str] = None
    recommendation: str
    contract_clause: str
    message: Optional[str] = None


class RuleFile(Strict):
    rules: list[RuleModel]


class TransportWord(Strict):
    """A line type a remark may name (a regular expression) and the 12.3.1.1 bullets that cover it."""

    pattern: str
    ignore_case: bool = False
    concepts: list[str]
    label: str


class Mds2Crosswalk(Strict):
    """A question the NEMA MDS2 and the JAHIS MDS/SDS both ask: the MDS2 IDs and the JAHIS concepts, whether the
    two ask it the same way round (`polarity`) and which disagreement contradicts (`contradicts`)."""

    mds2: list[str]
    concepts: list[str]
    polarity: Literal["same", "negated"] = "same"
    contradicts: Literal["both", "mds2_yes", "mds2_no"] = "both"
    note: str = ""


class ConceptMappings(Strict):
    """`rules/mappings/concepts.yaml`: the concept mappings the consistency checks read (rules.concept_maps)."""

    transport_concepts: list[str]
    transport_words: list[TransportWord]
    line_remark_concepts: list[str]
    remote_maintenance_words: str
    vendor_row_concepts: list[str]
    facility_backing: dict[str, list[str]]
    duty_targets: dict[str, list[str]]
    mds2_crosswalk: list[Mds2Crosswalk] = []

    def concept_locations(self):
        """(location in the file, concept name) of every concept the mappings name."""
        for name in ("transport_concepts", "line_remark_concepts", "vendor_row_concepts"):
            yield from (((name, i), c) for i, c in enumerate(getattr(self, name)))
        for i, word in enumerate(self.transport_words):
            yield from ((("transport_words", i, "concepts", j), c) for j, c in enumerate(word.concepts))
        for name in ("facility_backing", "duty_targets"):
            for key, concepts in getattr(self, name).items():
                yield (name, key), key
                yield from (((name, key, j), c) for j, c in enumerate(concepts))
        for i, pair in enumerate(self.mds2_crosswalk):
            yield from ((("mds2_crosswalk", i, "concepts", j), c) for j, c in enumerate(pair.concepts))

    def mds2_id_locations(self):
        """(location in the file, MDS2 question ID) of every MDS2 ID the cross-walk names."""
        for i, pair in enumerate(self.mds2_crosswalk):
            yield from ((("mds2_crosswalk", i, "mds2", j), q) for j, q in enumerate(pair.mds2))

    def patterns(self):
        """(location in the file, regular expression) of every pattern."""
        yield ("remote_maintenance_words",), self.remote_maintenance_words
        for i, word in enumerate(self.transport_words):
            yield ("transport_words", i, "pattern"), word.pattern


@functools.cache
def value_vocabularies() -> dict[str, frozenset[str]]:
    """Condition keys whose values come from a project vocabulary (a misspelt concept or answer would make the
    rule never fire): concept keys of the form catalogues, answers (extractors.vocabulary) and answer statuses
    (extractors.model)."""
    from typing import get_args

    from extractors.forms import all_forms
    from extractors.model import AnswerStatus
    from extractors.vocabulary import ANSWERS

    concepts = frozenset(i.concept for f in all_forms() for i in f.items if i.concept)
    return {"concepts": concepts, "answer_in": frozenset(ANSWERS), "statuses": frozenset(get_args(AnswerStatus))}
