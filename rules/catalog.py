"""The rule catalogue: rules as data (`rules/catalog/*.yaml`), the hospital's config, and rule descriptions.

A rule file holds a list of rules. Each rule names a `condition.check` (a function in
`rules.checks`) and its parameters; conditions target catalogue concepts (`two_factor_auth`,
`access_log`, …) so a rule works across form versions. Severity follows the likelihood × impact
matrix documented in `rules/README.md`; the hospital's config can switch rules off, change a
severity, and add its own rule directories.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from rules.condition_keys import check_condition
from rules.findings import CATEGORIES, CATEGORY_LABELS, SEVERITIES
from rules.schema import (ConfigError, RuleFile, RuleModel, RulesSection, allowed_keys, did_you_mean, line_of,
                          load_yaml, raise_validation, where)

CATALOG_DIR = Path(__file__).parent / "catalog"

LEVELS = SEVERITIES
# SEVERITY_MATRIX[likelihood][impact] — see rules/README.md.
SEVERITY_MATRIX: dict[str, dict[str, str]] = {
    "高": {"高": "高", "中": "高", "低": "中"},
    "中": {"高": "高", "中": "中", "低": "低"},
    "低": {"高": "中", "中": "低", "低": "低"},
}

FAMILY_SHORT = {"mds": "MDS", "sds": "SDS", "mds2": "MDS2", "checklist_vendor": "事業者確認用チェックリスト",
                "checklist_facility": "医療機関確認用チェックリスト", "device_ledger": "機器台帳",
                "vuln_feed": "脆弱性情報", "sbom": "SBOM",
                "unknown": "不明な様式"}
REQUIRED_FIELDS = ("id", "title", "category", "condition", "rationale", "recommendation", "contract_clause")


class RuleError(ConfigError):
    """A rule file or config that cannot be used. The message is Japanese (shown to the user)."""


@dataclass(frozen=True)
class Applicability:
    families: tuple[str, ...] = ()  # () = every family
    forms: tuple[str, ...] = ()  # catalogue form ids; () = every form
    versions: tuple[str, ...] = ()  # form versions ("GL5.2", "令和6年度"); () = every version

    def matches(self, family: str, form_id: str, form_version: str) -> bool:
        return ((not self.families or family in self.families)
                and (not self.forms or form_id in self.forms)
                and (not self.versions or form_version in self.versions))


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # Japanese
    category: str  # one of CATEGORIES
    severity: str  # 高 / 中 / 低 (after config overrides)
    likelihood: str  # 高 / 中 / 低 ("" when the file gives only a severity)
    impact: str
    applies_to: Applicability
    condition: dict  # {"check": name, ...parameters}
    rationale: str
    guideline_ref: str
    recommendation: str
    contract_clause: str
    message: str = ""  # Japanese template for Finding.finding; "" = the check's default
    source: str = ""  # the YAML file the rule came from
    enabled: bool = True

    @property
    def check(self) -> str:
        return self.condition.get("check", "")


@dataclass
class RulesConfig:
    disabled: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    extra_rule_dirs: list[Path] = field(default_factory=list)
    source: str = ""
    lines: dict[str, int] = field(default_factory=dict)  # rule id / rule dir as written -> line in `source`


def load_config(path: Path | str) -> RulesConfig:
    """Read `rules_config.yaml`, or the `rules:` section of `mdsgap.yaml`.

    {disabled: [ids], severity: {id: 高}, extra_rule_dirs: [dirs relative to the config file]}.
    """
    path = Path(path)
    try:
        data, root = load_yaml(path, "ルール設定ファイル")
    except ConfigError as e:
        raise RuleError(str(e)) from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise RuleError(f"{where(path, root, ())}: ルール設定は 項目: 値 の形式で記述してください")
    keys = set(RulesSection.model_fields)
    prefix: tuple = ()
    if "rules" in data:
        data, prefix = data["rules"], ("rules",)
    elif not path.name.startswith("rules"):
        # mdsgap.yaml without a rules: section: its other top-level keys belong to the pipeline
        # (validated by pipeline.config.RunConfig.load).
        data = {k: v for k, v in data.items() if k in keys}
    try:
        section = RulesSection.model_validate({} if data is None else data)
    except ValidationError as exc:
        try:
            raise_validation(exc, path, root, "設定ファイル", allowed_keys(RulesSection, prefix), prefix)
        except ConfigError as e:
            raise RuleError(str(e)) from None
    lines: dict[str, int] = {}
    for i, rule_id in enumerate(section.disabled or []):
        lines.setdefault(rule_id, _line(root, prefix + ("disabled", i)))
    for rule_id in section.severity or {}:
        lines.setdefault(rule_id, _line(root, prefix + ("severity", rule_id)))
    dirs = []
    for i, d in enumerate(section.extra_rule_dirs or []):
        p = Path(d)
        p = p if p.is_absolute() else (path.parent / p)
        lines.setdefault(str(p), _line(root, prefix + ("extra_rule_dirs", i)))
        dirs.append(p)
    return RulesConfig(disabled=list(section.disabled or []), severity=dict(section.severity or {}),
                       extra_rule_dirs=dirs, source=str(path), lines=lines)


def _line(root, loc: tuple) -> int:
    return line_of(root, loc) or 0


def _at(config: RulesConfig, key: str) -> str:
    line = config.lines.get(key)
    return f"設定ファイル {config.source or ''}" + (f" {line}行目" if line else "")


def _tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def _parse_rule(raw: dict, source: str, path: Path | None = None, root=None, loc: tuple = ()) -> Rule:
    from rules.checks import CHECKS  # late: checks import this module's types

    where = f"{where_in(path or source, root, loc)}: ルール {raw.get('id', '(idなし)')}"
    missing = [k for k in REQUIRED_FIELDS if not raw.get(k)]
    if missing:
        raise RuleError(f"{where}: 必須項目がありません: {', '.join(missing)}")
    if raw["category"] not in CATEGORIES:
        raise RuleError(f"{where}: 分類「{raw['category']}」は使えません（{', '.join(CATEGORIES)}）")
    condition = dict(raw["condition"])
    if condition.get("check") not in CHECKS:
        hint = did_you_mean(condition.get("check"), CHECKS)
        raise RuleError(f"{where_in(path or source, root, loc + ('condition', 'check'))}: ルール {raw['id']} の"
                        f"条件の種類「{condition.get('check')}」は使えません（{hint + '、' if hint else ''}"
                        f"{', '.join(sorted(CHECKS))}）")
    try:
        check_condition(condition, path or source, root, loc + ("condition",), str(raw["id"]))
    except ConfigError as e:
        raise RuleError(str(e)) from None
    likelihood, impact = str(raw.get("likelihood", "")), str(raw.get("impact", ""))
    if likelihood or impact:
        if likelihood not in LEVELS or impact not in LEVELS:
            raise RuleError(f"{where}: 発生可能性（likelihood）と影響度（impact）は高・中・低で指定してください")
        severity = SEVERITY_MATRIX[likelihood][impact]
        if raw.get("severity") and raw["severity"] != severity:
            raise RuleError(f"{where}: 重大度「{raw['severity']}」が発生可能性×影響度の表（{severity}）と"
                            "一致しません。変更は設定ファイルの severity で行ってください")
    else:
        severity = str(raw.get("severity", ""))
        if severity not in SEVERITIES:
            raise RuleError(f"{where}: 重大度（severity）か、発生可能性と影響度（likelihood, impact）が必要です")
    app = raw.get("applies_to") or {}
    return Rule(
        id=str(raw["id"]), title=raw["title"], category=raw["category"], severity=severity,
        likelihood=likelihood, impact=impact,
        applies_to=Applicability(families=_tuple(app.get("families")), forms=_tuple(app.get("forms")),
                                 versions=_tuple(app.get("versions"))),
        condition=condition, rationale=str(raw["rationale"]).strip(),
        guideline_ref=str(raw.get("guideline_ref", "")).strip(),
        recommendation=str(raw["recommendation"]).strip(), contract_clause=str(raw["contract_clause"]).strip(),
        message=str(raw.get("message", "")).strip(), source=source,
    )


def load_rule_file(path: Path) -> list[Rule]:
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as e:
        raise RuleError(f"ルールファイルを読めません: {path}（{e}）") from e
    return list(_load_rule_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=256)
def _load_rule_file(path_str: str, mtime_ns: int, size: int) -> tuple[Rule, ...]:
    """Parsed once per file version (rules are frozen dataclasses, safe to share)."""
    path = Path(path_str)
    try:
        data, root = load_yaml(path, "ルールファイル")
    except ConfigError as e:
        raise RuleError(str(e)) from None
    data = data or {}
    prefix: tuple = ("rules",) if isinstance(data, dict) else ()
    raw_rules = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(raw_rules, list):
        raise RuleError(f"{where_in(path, root, ())}: ルールファイルに rules: の一覧がありません")
    try:
        if isinstance(data, dict):
            try:
                RuleFile.model_validate(data)
            except ValidationError as exc:
                raise_validation(exc, path, root, "ルールファイル", _rule_file_keys(raw_rules))
        else:
            for i, raw in enumerate(raw_rules):
                try:
                    RuleModel.model_validate(raw)
                except ValidationError as exc:
                    raise_validation(exc, path, root, "ルールファイル", allowed_keys(RuleModel, (i,)), (i,))
    except ConfigError as e:
        raise RuleError(str(e)) from None
    return tuple(_parse_rule(r, path.name, path, root, prefix + (i,)) for i, r in enumerate(raw_rules))


def _rule_file_keys(raw_rules: list) -> dict[tuple, list[str]]:
    keys = allowed_keys(RuleFile)
    for i in range(len(raw_rules)):
        keys.update(allowed_keys(RuleModel, ("rules", i)))
    return keys


def where_in(path, root, loc: tuple) -> str:
    return where(path, root, loc, "ルールファイル")


def extra_rule_files(folder: Path) -> list[Path]:
    """The rule files of a hospital's extra rule folder (`extra_rule_dirs`), in the order they are read."""
    return sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml")))


def load_rules(config: RulesConfig | None = None, include_disabled: bool = False) -> list[Rule]:
    """Built-in rules, then the config's extra directories (a rule with the same id replaces the earlier one).

    Disabled rules are dropped (or kept with enabled=False when include_disabled); severity overrides applied.
    """
    config = config or RulesConfig()
    files = sorted(CATALOG_DIR.glob("*.yaml"))
    for d in config.extra_rule_dirs:
        d = Path(d)
        if not d.is_dir():
            raise RuleError(f"{_at(config, str(d))}: 追加ルールのフォルダが見つかりません: {d}")
        files += extra_rule_files(d)
    by_id: dict[str, Rule] = {}
    for f in files:
        seen_in_file: set[str] = set()
        for rule in load_rule_file(f):
            if rule.id in seen_in_file:
                raise RuleError(f"ルールファイル {f}: ルールID {rule.id} が重複しています")
            seen_in_file.add(rule.id)
            by_id[rule.id] = rule
    known = set(by_id)
    for key, ids in (("disabled", config.disabled), ("severity", config.severity)):
        for rule_id in ids:
            if rule_id not in known:
                hint = did_you_mean(rule_id, known)
                raise RuleError(f"{_at(config, rule_id)}: {key} のルールID「{rule_id}」は存在しません"
                                + (f"（{hint}）" if hint else "（mdsgap rules list で一覧を確認できます）"))
    from dataclasses import replace

    rules = []
    for rule in by_id.values():
        if rule.id in config.severity:
            rule = replace(rule, severity=config.severity[rule.id])
        if rule.id in config.disabled:
            if not include_disabled:
                continue
            rule = replace(rule, enabled=False)
        rules.append(rule)
    return rules


def describe_rule(rule: Rule) -> str:
    """A Japanese description for `mdsgap rules list` / `mdsgap explain`."""
    from rules.checks import describe_condition

    app = rule.applies_to
    scope = "、".join(FAMILY_SHORT.get(f, f) for f in app.families) if app.families else "すべての様式"
    if app.forms:
        scope += f"（様式: {', '.join(app.forms)}）"
    if app.versions:
        scope += f"（版: {', '.join(app.versions)}）"
    matrix = (f"（発生可能性 {rule.likelihood} × 影響度 {rule.impact}）" if rule.likelihood else "")
    lines = [
        f"{rule.id}: {rule.title}",
        f"  分類: {CATEGORY_LABELS.get(rule.category, rule.category)}（{rule.category}）",
        f"  重大度: {rule.severity}{matrix}" + ("" if rule.enabled else "　※設定により無効"),
        f"  対象: {scope}",
        f"  条件: {describe_condition(rule.condition)}",
        f"  根拠: {rule.rationale}",
    ]
    if rule.guideline_ref:
        lines.append(f"  ガイドライン: {rule.guideline_ref}")
    lines += [f"  推奨対応: {rule.recommendation}", f"  契約・覚書の文案: {rule.contract_clause}",
              f"  定義ファイル: {rule.source}"]
    return "\n".join(lines)
