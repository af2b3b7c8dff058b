"""File names, column contracts and reviewer vocabulary shared by the pipeline modules."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, ValidationError

from rules.os_eol import OsEolEntry
from rules.schema import ConfigError, RulesSection, Strict, allowed_keys, load_yaml, raise_validation, where

DEFAULT_INBOX = Path("inbox")
DEFAULT_OUT = Path("outputs")
PROCESSED_DIR = "processed"
FAILED_DIR = "failed"
STORE_NAME = "mdsgap.sqlite"
LOCK_NAME = ".mdsgap.lock"
ANSWERS_NAME = "answers"  # .csv / .parquet
REGISTER_NAME = "risk_register"  # .xlsx / .parquet / .csv
LOCKED_SUFFIX = " (新)"  # written beside an output that is open in Excel
CONFIG_NAME = "mdsgap.yaml"

# Output contract: other tools read these columns by name. Extra columns go after them.
ANSWER_COLUMNS = [
    "source_file", "document_id", "family", "form_version", "vendor", "product", "product_version",
    "created", "item_id", "number_printed", "question", "answer", "answer_status", "remark", "remark_ref",
    "first_date", "target_date", "second_answer", "second_date", "confidence", "needs_review", "location",
]
ANSWER_EXTRA_COLUMNS = [
    "answer_raw", "review_reason", "concept", "catalogue_id", "known", "form_id", "section", "scope",
    "guideline_ref", "sha256", "answer_column", "guideline_version",
]

REGISTER_COLUMNS = [
    "risk_id", "vendor", "product", "category", "rule_id", "severity", "item_ids", "title", "finding",
    "evidence", "source_files", "recommendation", "contract_clause", "status", "first_seen", "last_seen",
]
# Reviewer-owned columns of the living register (issue #5): read back from the XLSX and kept.
REVIEW_STATUS = "対応状況"
RISK_ASSESSMENT = "リスク評価"  # 第7.0版: the hospital's recorded risk assessment of an いいえ / 【別紙】 gap
REVIEWER_COLUMNS = [REVIEW_STATUS, "担当", "対応方針", "期限", "メモ", RISK_ASSESSMENT]
RESOLVED_ON = "解消日"
UNSEEN_REASON = "今回未検出の理由"  # an open risk this run did not see, and why it is not 解消
RESOLVED_BY = "解消の根拠"  # the newer document whose evaluation showed the fix
RISK_FLAG = "リスク評価の要否"  # 要リスク評価 until リスク評価 is filled, then 記録済み; "" when none is needed
RISK_NEEDED, RISK_RECORDED = "要リスク評価", "記録済み"
REGISTER_EXTRA_COLUMNS = [RESOLVED_ON, "needs_review", "guideline_ref", "rationale", "document_ids",
                          UNSEEN_REASON, RESOLVED_BY, RISK_FLAG]
ALL_REGISTER_COLUMNS = REGISTER_COLUMNS + REGISTER_EXTRA_COLUMNS + REVIEWER_COLUMNS

# Every MDS/SDS いいえ (and 【別紙】 item not はい/対象外) with the hospital's risk assessment (第7.0版), one row per
# vendor + product + form family + item id: the sheet 「リスク評価」 of the register workbook and risk_assessments.csv /
# .parquet (pipeline/risk_sheet.py). Not register rows: most いいえ answers are no finding.
ASSESSMENTS_NAME = "risk_assessments"  # .csv / .parquet
SHEET_ASSESSMENTS = "リスク評価"
ASSESSMENT_ID = "評価ID"
ASSESSMENT_STATE = "状態"  # RISK_NEEDED / RISK_RECORDED ("" for a row of an earlier version only)
ASSESSMENT_CURRENT = "現行"  # CURRENT_ITEM / PAST_ITEM
CURRENT_ITEM, PAST_ITEM = "現行", "過去の版のみ"
REGISTER_ASSESSMENT = "登録簿のリスク評価"  # the リスク評価 column of the register rows naming the item
ASSESSMENT_REVIEWER_COLUMNS = [RISK_ASSESSMENT, "評価者", "評価日"]
ASSESSMENT_COLUMNS = [
    ASSESSMENT_ID, "事業者", "製品・システム", "様式", "項目", "設問", "回答", "備考", "対象の理由", "ファイル", "文書ID",
    "リスクID", REGISTER_ASSESSMENT, "初回検出", "最終確認", ASSESSMENT_CURRENT, ASSESSMENT_STATE,
] + ASSESSMENT_REVIEWER_COLUMNS
ASSESSMENT_COLUMN_GUIDE = {
    ASSESSMENT_ID: "評価ID。同じ事業者・製品・様式（MDS/SDS）・項目番号には、新しい版の書類でも同じIDが付きます。",
    "対象の理由": "リスク評価が必要な理由（「いいえ」の回答、【別紙】の項目で「はい」「対象外」以外の回答）。",
    "リスクID": "同じ項目を根拠とするリスク登録簿の指摘（あれば）。",
    REGISTER_ASSESSMENT: "その指摘の「リスク評価」列に記入された内容（参考。こちらでも記録済みとみなします）。",
    ASSESSMENT_CURRENT: "「現行」は現在の書類の項目、「過去の版のみ」は新しい版で対象でなくなった項目（記入内容は残します）。",
    ASSESSMENT_STATE: "「要リスク評価」はリスク評価が未記入の項目、「記録済み」は記入済みの項目です。",
    RISK_ASSESSMENT: "【記入欄】リスク評価とリスク対応の内容。立入検査・監査で説明できるように記録します。次回実行時も保持されます。",
    "評価者": "【記入欄】評価者。次回実行時も保持されます。",
    "評価日": "【記入欄】評価日。次回実行時も保持されます。",
}

STATUS_OPEN = "未対応"
STATUS_RESOLVED = "解消"
REVIEW_STATUSES = ["未対応", "協議中", "契約反映済", "リスク受容", "解消"]

# Japanese column guide written into the register workbook (sheet 列の説明).
REGISTER_COLUMN_GUIDE = {
    "risk_id": "リスクID。同じ事業者・製品・ルール・項目の組み合わせには毎回同じIDが付きます。",
    "vendor": "事業者名（開示書・チェックリストの記載どおり）。",
    "product": "製品・サービス名。",
    "category": "指摘の分類（未対応機能、オプション依存、責任の転嫁、備考との矛盾など）。",
    "rule_id": "指摘を出したルールのID。`mdsgap explain <risk_id>` で詳細を表示できます。",
    "severity": "重要度（高・中・低）。",
    "item_ids": "根拠となった項目番号（複数はカンマ区切り）。",
    "title": "指摘の見出し。",
    "finding": "この事業者についての指摘内容。",
    "evidence": "根拠：回答と備考の引用、ファイル内の位置。",
    "source_files": "根拠となったファイル名。",
    "recommendation": "推奨する対応（確認事項・交渉事項）。",
    "contract_clause": "保守契約書等に盛り込むべき条項の例。",
    "status": "状態。新しい指摘は「未対応」。対応状況を入力するとその値になります。「解消」になるのは、同じ事業者・製品の"
              "新しい版の書類を同じルールで評価して指摘が出なくなった場合だけです（根拠は「解消の根拠」列）。",
    "first_seen": "初めて検出した日。",
    "last_seen": "最後に検出した日。",
    RESOLVED_ON: "再提出された新しい版で指摘が出なくなったことを確認した日。",
    "needs_review": "抽出の確信度が低く、原本での確認が必要な場合に TRUE。",
    "guideline_ref": "関連する安全管理ガイドラインの項目。",
    "rationale": "ルールの根拠・解説。",
    "document_ids": "根拠となった文書ID（ファイル内容のハッシュ先頭16桁）。",
    UNSEEN_REASON: "今回の実行でこの指摘が検出されなかったが「解消」としていない理由（ルールの無効化、新しい版が未評価、"
                   "製品が見つからない、項目が読み取れていない等）。検出された指摘では空欄です。",
    RESOLVED_BY: "解消と判断した根拠：同じルールで評価し指摘が出なくなった新しい版の書類（ファイル名・文書ID）。",
    REVIEW_STATUS: "【記入欄】対応状況（未対応／協議中／契約反映済／リスク受容／解消）。次回実行時も保持されます。",
    "担当": "【記入欄】担当者。次回実行時も保持されます。",
    "対応方針": "【記入欄】対応方針。次回実行時も保持されます。",
    "期限": "【記入欄】対応期限。次回実行時も保持されます。",
    "メモ": "【記入欄】メモ。次回実行時も保持されます。",
    RISK_FLAG: "安全管理ガイドライン第7.0版（保守委託機関編）により、開示書の「いいえ」（及び【別紙】の項目で「はい」「対象外」以外の回答）"
               "には説明できるリスク評価の記録が必要です。「要リスク評価」はリスク評価列が空欄の行、「記録済み」は記入済みの行です（「リスク評価」シートでこの指摘の項目すべてに記入した場合も「記録済み」になります）。",
    RISK_ASSESSMENT: "（記入欄）リスク評価とリスク対応の内容。立入検査・監査で説明できるように記録します。記入すると次回以降も保持され、"
                     "「要リスク評価」が「記録済み」に変わります。",
}


@dataclass
class RunConfig:
    """Options for a run, from `mdsgap.yaml` (top-level keys; its `rules:` section belongs to the rules engine)."""

    path: Path | None = None  # the file read
    rules_path: Path | None = None  # handed to rules.catalog.load_config: the file when it holds rule settings
    stable_interval: float = 1.0  # seconds between the two size/mtime reads
    stable_rounds: int = 3  # how many times an unstable file is re-checked before it waits for the next run
    stable_quiet: float = 5.0  # seconds a file must be unchanged before it is read (a copy that pauses)
    os_eol: list = field(default_factory=list)  # rules.os_eol.OsEolEntry rows added to the shipped table
    vendor_aliases: dict = field(default_factory=dict)  # a name in the ledger -> the vendor name of the forms

    @classmethod
    def load(cls, path: Path | None) -> "RunConfig":
        if path is None:
            return cls()
        path = Path(path)
        data = _validated(path)
        pipeline_keys = {"stable_interval", "stable_rounds", "stable_quiet", "os_eol", "vendor_aliases"}
        holds_rules = "rules" in data or bool(set(data) - pipeline_keys)
        return cls(
            path=path,
            rules_path=path if holds_rules else None,
            stable_interval=float(data.get("stable_interval", 1.0)),
            stable_rounds=int(data.get("stable_rounds", 3)),
            stable_quiet=float(data.get("stable_quiet", 5.0)),
            os_eol=[OsEolEntry.model_validate(e) for e in data.get("os_eol") or []],
            vendor_aliases={str(k): str(v) for k, v in (data.get("vendor_aliases") or {}).items()},
        )


class ConfigFile(Strict):
    """`mdsgap.yaml`: the pipeline's keys and the rules engine's `rules:` section (rules.schema.RulesSection).

    The rule settings may also stand at the top level (a `rules_config.yaml` given as --config)."""

    stable_interval: float = Field(1.0, ge=0)
    stable_rounds: int = Field(3, ge=0)
    stable_quiet: float = Field(5.0, ge=0)
    rules: RulesSection | None = None
    disabled: list[str] | None = None
    severity: RulesSection.model_fields["severity"].annotation = None  # type: ignore[valid-type]
    extra_rule_dirs: list[str] | None = None
    os_eol: list[OsEolEntry] | None = None  # end-of-support dates added to rules/data/os_eol.yaml
    vendor_aliases: dict[str, str] | None = None  # ledger vendor name -> vendor name the forms print


def _validated(path: Path) -> dict:
    """The file's top-level mapping, validated; ConfigError (Japanese, with file, line and key) otherwise."""
    data, root = load_yaml(path, "設定ファイル")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{where(path, root, ())}: 設定は 項目: 値 の形式で記述してください")
    try:
        ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise_validation(exc, path, root, "設定ファイル", allowed_keys(ConfigFile))
    stray = [k for k in RulesSection.model_fields if k in data]
    if "rules" in data and stray:  # the rules: section wins; a top-level rule setting beside it would be ignored
        raise ConfigError(f"{where(path, root, (stray[0],))}: 「{stray[0]}」は rules: の中に書いてください")
    return data
