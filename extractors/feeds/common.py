"""What the feed and SBOM readers share: Japanese refusals and type guards (a hostile file may put any type
anywhere, so every value is checked before use)."""
from __future__ import annotations

from pathlib import Path

from extractors.model import ExtractionError

RESEND = "配布元から取得し直したファイルを受信フォルダに置いてください。"


def too_large(path: Path, limit: int, what: str, size: int | None = None) -> ExtractionError:
    size = path.stat().st_size if size is None else size
    return ExtractionError(
        f"{what}が大きすぎます（{size // (1024 * 1024)} MB 以上、上限 {limit // (1024 * 1024)} MB）。"
        "取得する期間や件数を分けて（NVD は 1 回 2,000 件まで）保存し直してください。", "too_large")


def corrupt(what: str, detail: str = "") -> ExtractionError:
    why = f"（{detail}）" if detail else ""
    return ExtractionError(f"{what}として読み取れませんでした{why}。ファイルが壊れているか途中までしかありません。"
                           + RESEND, "corrupt")


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    return value if isinstance(value, list) else []


def as_text(value, limit: int = 4000) -> str:
    if isinstance(value, str):
        return value.strip()[:limit]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def as_score(value) -> float | None:
    try:
        score = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return score if 0.0 <= score <= 10.0 else None
