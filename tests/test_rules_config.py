"""The hospital's config: switch rules off, change severities, add its own rule files — without code."""
from __future__ import annotations

import datetime as dt

import pytest

from rules.catalog import RuleError, describe_rule, load_config, load_rules
from rules.engine import evaluate
from tests.test_rules import TWO_FACTOR, clean_mds, companions

AS_OF = dt.date(2025, 6, 1)


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_disable_and_change_severity(tmp_path):
    cfg = load_config(write(tmp_path / "rules_config.yaml",
                            "disabled: [unsupported.auto_lock]\nseverity: {unsupported.two_factor_auth: 中}\n"))
    docs = companions([clean_mds(**{TWO_FACTOR: "いいえ", "3": "いいえ"})])
    default = {f.rule_id: f.severity for f in evaluate(docs, AS_OF)}
    assert default == {"unsupported.two_factor_auth": "高", "unsupported.auto_lock": "低"}
    configured = {f.rule_id: f.severity for f in evaluate(docs, AS_OF, cfg)}
    assert configured == {"unsupported.two_factor_auth": "中"}
    listed = {r.id: r for r in load_rules(cfg, include_disabled=True)}
    assert not listed["unsupported.auto_lock"].enabled
    assert "設定により無効" in describe_rule(listed["unsupported.auto_lock"])


def test_hospital_rule_directory_in_mdsgap_yaml(tmp_path):
    rule_dir = tmp_path / "hospital_rules"
    rule_dir.mkdir()
    write(rule_dir / "ours.yaml", """
rules:
  - id: hospital.auto_lock_na
    title: 離席時の不正入力防止が対象外とされている
    category: unsupported
    severity: 中
    applies_to: {families: [mds, sds]}
    condition: {check: answer, concepts: [auto_lock], answer_in: [対象外]}
    rationale: 当院では全端末で画面ロックを必須としている。
    recommendation: 画面ロックの設定方法を確認する。
    contract_clause: 乙は画面ロックの設定方法を甲に提示する。
""")
    cfg = load_config(write(tmp_path / "mdsgap.yaml",
                            "stable_interval: 2\nrules:\n  extra_rule_dirs: [hospital_rules]\n"))
    docs = companions([clean_mds(**{"3": ("対象外", "画面を持たない装置のため。")})])
    assert evaluate(docs, AS_OF) == []
    found = evaluate(docs, AS_OF, cfg)
    assert [(f.rule_id, f.item_ids, f.severity) for f in found] == [("hospital.auto_lock_na", ["3"], "中")]
    assert found[0].recommendation == "画面ロックの設定方法を確認する。"


def test_mdsgap_yaml_without_rules_section_is_an_empty_config(tmp_path):
    cfg = load_config(write(tmp_path / "mdsgap.yaml", "stable_interval: 2\nstable_rounds: 3\n"))
    assert cfg.disabled == [] and cfg.severity == {} and cfg.extra_rule_dirs == []


@pytest.mark.parametrize("text,message", [
    ("disabled: [no.such.rule]\n", "存在しません"),
    ("severity: {unsupported.two_factor_auth: 最高}\n", "高・中・低"),
    ("disable: [unsupported.two_factor_auth]\n", "不明な項目"),
])
def test_bad_config_gives_japanese_error(tmp_path, text, message):
    cfg_path = write(tmp_path / "rules_config.yaml", text)
    with pytest.raises(RuleError, match=message):
        load_rules(load_config(cfg_path))


def test_bad_rule_file_is_rejected(tmp_path):
    rule_dir = tmp_path / "r"
    rule_dir.mkdir()
    write(rule_dir / "bad.yaml", """
rules:
  - id: hospital.bad
    title: 不正なルール
    category: not_a_category
    severity: 高
    condition: {check: answer, concepts: [auto_lock], answer_in: [いいえ]}
    rationale: x
    recommendation: x
    contract_clause: x
""")
    cfg = load_config(write(tmp_path / "rules_config.yaml", "extra_rule_dirs: [r]\n"))
    with pytest.raises(RuleError, match="分類"):
        load_rules(cfg)


def test_severity_must_follow_the_matrix(tmp_path):
    rule_dir = tmp_path / "r"
    rule_dir.mkdir()
    write(rule_dir / "m.yaml", """
rules:
  - id: hospital.matrix
    title: 表と異なる重大度
    category: unsupported
    likelihood: 低
    impact: 低
    severity: 高
    condition: {check: answer, concepts: [auto_lock], answer_in: [いいえ]}
    rationale: x
    recommendation: x
    contract_clause: x
""")
    with pytest.raises(RuleError, match="一致しません"):
        load_rules(load_config(write(tmp_path / "rules_config.yaml", "extra_rule_dirs: [r]\n")))


def test_describe_rule_is_japanese_and_complete():
    rule = next(r for r in load_rules() if r.id == "inconsistency.access_log")
    text = describe_rule(rule)
    for label in ("分類: 不整合", "重大度: 高（発生可能性 高 × 影響度 高）", "条件:", "根拠:", "推奨対応:", "契約・覚書の文案:"):
        assert label in text
