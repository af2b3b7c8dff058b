"""The answers table: one row per item per current document (answers.csv with BOM, answers.parquet)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from extractors.model import Document
from pipeline.config import ANSWER_COLUMNS, ANSWER_EXTRA_COLUMNS, ANSWERS_NAME
from pipeline.safe_io import csv_writer, parquet_writer, write_outputs

_BOOL_COLUMNS = ("needs_review", "known")


def answer_rows(documents: list[Document]) -> list[dict]:
    rows: list[dict] = []
    for doc in documents:
        created = doc.created.isoformat() if doc.created else ""
        for it in doc.items:
            rows.append({
                "source_file": doc.source_file,
                "document_id": doc.document_id,
                "family": doc.family,
                "form_version": doc.form_version,
                "vendor": doc.vendor,
                "product": doc.product,
                "product_version": doc.product_version,
                "created": created,
                "item_id": it.item_id,
                "number_printed": it.number_printed,
                "question": it.question,
                "answer": it.answer,
                "answer_status": it.answer_status,
                "remark": it.remark,
                "remark_ref": it.remark_ref,
                "first_date": it.first_date,
                "target_date": it.target_date,
                "second_answer": it.second_answer,
                "second_date": it.second_date,
                "confidence": float(it.confidence),
                "needs_review": bool(it.needs_review),
                "location": str(it.location) if it.location else "",
                "answer_raw": it.answer_raw,
                "review_reason": it.review_reason,
                "concept": it.concept,
                "catalogue_id": it.catalogue_id,
                "known": bool(it.known),
                "form_id": doc.form_id,
                "section": it.section,
                "scope": it.scope,
                "guideline_ref": it.guideline_ref,
                "sha256": doc.sha256,
                "answer_column": it.answer_column,
                "guideline_version": doc.guideline_version,
            })
    return rows


def answers_frame(documents: list[Document]) -> pd.DataFrame:
    columns = ANSWER_COLUMNS + ANSWER_EXTRA_COLUMNS
    df = pd.DataFrame(answer_rows(documents), columns=columns)
    df["confidence"] = df["confidence"].astype("float64")
    for col in _BOOL_COLUMNS:
        df[col] = df[col].astype("bool")
    for col in columns:
        if col not in _BOOL_COLUMNS and col != "confidence":
            df[col] = df[col].fillna("").astype("string")
    return df


def write_answers(documents: list[Document], out: Path) -> tuple[list[Path], list[str]]:
    """Write answers.csv (its text formula-safe) and answers.parquet; returns the paths written and Japanese
    warnings."""
    df = answers_frame(documents)
    text = [c for c in df.columns if not (df[c].dtype == "bool" or pd.api.types.is_numeric_dtype(df[c]))]
    return write_outputs([(Path(out) / f"{ANSWERS_NAME}.csv", csv_writer(df, text)),
                          (Path(out) / f"{ANSWERS_NAME}.parquet", parquet_writer(df))])
