"""MDS2 + JAHIS MDS pairs of one product (issue #14 cross-walk), fictional manufacturers, our own wording.

- ハロウ (planted): the US maker's MDS2 (manufacturer 「Harrow Diagnostics, Inc.」) and the JAHIS MDS its Japanese
  distributor filled (「ハロウ・ダイアグノスティクス株式会社」); `VENDOR_ALIASES` (mdsgap.yaml `vendor_aliases`) ties
  the two names. One disagreement is planted: RMOT-1 「No」 (no remote service) while the MDS says 12.4 該当 and
  describes the remote maintenance. Answers that differ without contradicting are there too and must not fire:
  PAUT-11 「Yes, optional」 against 4.1/生体認証 いいえ, EMRG-1 「N/A」 against 11 はい, SAHD-12 「No」 (the MDS2's
  negated install question) against 8 はい, STCF-1 「No」 against 10 はい and AUTH-2 「Yes」 against 4.2 いいえ (one-way
  pairs), MLDP-2 「Yes」 against 6 いいえ whose remark makes it an option.
- Fernhill (clean): the same manufacturer name on both documents, every shared question answered alike.

`python -m samples.build --out DIR --only mds2` writes them beside the MDS2 samples.
"""
from __future__ import annotations

from pathlib import Path

from samples.mds2 import _items, render_xlsx as render_mds2
from samples.spec import NA, NO, YES, Submission, mds_items
from samples.vendors import MDS52_TITLE

VENDOR_ALIASES = {"Harrow Diagnostics, Inc.": "ハロウ・ダイアグノスティクス株式会社"}
PLANTED = {"category": "inconsistency", "item_ids": ["12.4", "RMOT-1"],
           "note": "MDS2 RMOT-1 リモートサービスなし（No）だが、同じ製品のMDS 12.4 リモートメンテナンス 該当"}


def _jahis(file: str, vendor: str, vendor_key: str, product: str, answers: dict, remarks: dict) -> Submission:
    items = mds_items("jahis-mds-4.1", answers=answers, remarks=remarks)
    return Submission(
        file=file, convention="mds2-pair: JAHIS MDS of the product an MDS2 describes", family="mds",
        form_id="jahis-mds-4.1", form_version="GL5.2", vendor=vendor, vendor_key=vendor_key, product=product,
        product_version="4.1", created="2025-09-01", title=MDS52_TITLE,
        items=items, deployment="on_premise",
        header_fields={"製造業者": vendor, "作成日": "2025年9月1日", "製品名称": product, "バージョン": "4.1"})


def harrow() -> tuple[Submission, Submission]:
    overrides = {
        "PAUT-8": (NO, "No", "", "", False, ""),
        "PAUT-11": (YES, "Yes, optional", "", "optional", False, ""),
        "PAUT-12": (NO, "No", "", "", False, ""),
        "EMRG-1": (NA, "N/A", "", "", False, ""),
        "SAHD-12": (NO, "No", "", "", False, ""),
        "STCF-1": (NO, "No", "", "", False, ""),
        "RMOT-1": (NO, "No", "1", "Service is provided on site only; the analyser has no remote service port.",
                   False, ""),
    }
    notes = {"1": "Service is provided on site only; the analyser has no remote service port."}
    mds2 = Submission(
        file="Harrow_HD410_MDS2.xlsx", convention="mds2-pair: NEMA HN 1-2019 worksheet of a product with a JAHIS MDS",
        family="mds2", form_id="nema-mds2-2019", form_version="HN 1-2019", vendor="Harrow Diagnostics, Inc.",
        vendor_key="harrow", product="Point-of-care blood gas analyser", product_version="HD-410",
        created="2025-05-20", items=_items(overrides, {"DOC-11", "RMOT-1"}), footnotes=notes,
        planted=[dict(PLANTED)])
    mds = _jahis("ハロウ_HD-410血液ガス分析装置_MDS.xlsx", "ハロウ・ダイアグノスティクス株式会社", "harrow",
                 "HD-410 血液ガス分析装置",
                 answers={"4.2": NO, "6": NO},
                 remarks={"12.4": "当社保守センターからIP-VPN経由でリモートメンテナンスを行います。",
                          "6": "ウイルス対策ソフトはオプションで導入できます。",
                          "4.2": "職種別の情報区分による制御はありません。管理者と一般利用者の2段階です。"})
    mds.planted = [dict(PLANTED)]
    return mds2, mds


def fernhill() -> tuple[Submission, Submission]:
    overrides = {"PAUT-8": (NO, "No", "", "", False, ""), "PAUT-11": (NO, "No", "", "", False, ""),
                 "PAUT-12": (NO, "No", "", "", False, "")}
    mds2 = Submission(
        file="Fernhill_FM88_MDS2.xlsx", convention="mds2-pair: clean NEMA HN 1-2019 worksheet with a JAHIS MDS",
        family="mds2", form_id="nema-mds2-2019", form_version="HN 1-2019", vendor="Fernhill Medical Instruments Ltd.",
        vendor_key="fernhill", product="Infusion management workstation", product_version="FM-88",
        created="2025-02-10", items=_items(overrides, {"DOC-11"}), footnotes={})
    mds = _jahis("Fernhill_FM-88_MDS.xlsx", "Fernhill Medical Instruments Ltd.", "fernhill", "FM-88 輸液管理ワークステーション",
                 answers={}, remarks={"12.4": "保守センターからIP-VPN経由で接続します。"})
    return mds2, mds


def pairs() -> list[tuple[Submission, Submission]]:
    return [harrow(), fernhill()]


def build_pairs(out: Path) -> list[tuple[Path, dict]]:
    """Write each pair: the MDS2 in the NEMA layout, the MDS in vendor A's mark-column layout."""
    from samples.office_xlsx import render_xlsx
    from samples.styles import XLSX_STYLES

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for mds2, mds in pairs():
        written.append((render_mds2(mds2, out / mds2.file), mds2.truth()))
        written.append((render_xlsx(mds, out / mds.file, XLSX_STYLES["A_mds"]), mds.truth()))
    return written
