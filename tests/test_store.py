import datetime as dt

from pipeline.store import Store, submission_key
from tests.conftest import make_document


def test_document_round_trip_and_items_table(tmp_path):
    doc = make_document()
    with Store.open(tmp_path) as store:
        store.save_document(doc)
        assert store.has_sha(doc.sha256)
        [current] = store.current_documents()
        assert current == doc
        rows = store.item_rows(doc.document_id)
    assert [r["item_id"] for r in rows] == ["4.1", "12.3.1"]
    assert rows[1]["needs_review"] == 1 and rows[1]["confidence"] == 0.6
    assert rows[0]["location"] == "mds.xlsx / MDS / C12"
    assert (tmp_path / "mdsgap.sqlite").is_file()


def test_resubmission_supersedes_but_keeps_history(tmp_path):
    old = make_document(sha="1" * 64, created=dt.date(2023, 4, 1), source_file="old.xlsx")
    # Same vendor written differently, same product: a re-submission.
    new = make_document(vendor="テストメディカル（株）", sha="2" * 64, created=dt.date(2024, 6, 1),
                        source_file="new.xlsx")
    other_family = make_document(family="sds", sha="3" * 64, source_file="sds.xlsx")
    assert submission_key(old) == submission_key(new) != submission_key(other_family)
    with Store.open(tmp_path) as store:
        for d in (old, new, other_family):
            store.save_document(d)
        current = {d.source_file for d in store.current_documents()}
        history = {h.source_file: h for h in store.history()}
    assert current == {"new.xlsx", "sds.xlsx"}
    assert history["old.xlsx"].is_current is False
    assert history["old.xlsx"].superseded_by == new.document_id
    assert history["new.xlsx"].is_current and history["new.xlsx"].superseded_by == ""


def test_older_form_arriving_later_does_not_replace_newer(tmp_path):
    newer = make_document(sha="4" * 64, created=dt.date(2024, 6, 1), source_file="2024.xlsx")
    older = make_document(sha="5" * 64, created=dt.date(2022, 6, 1), source_file="2022.xlsx")
    with Store.open(tmp_path) as store:
        store.save_document(newer)
        store.save_document(older)
        assert [d.source_file for d in store.current_documents()] == ["2024.xlsx"]
        assert {h.source_file: h.superseded_by for h in store.history()}["2022.xlsx"] == newer.document_id


def test_documents_without_vendor_or_product_never_supersede_each_other(tmp_path):
    a = make_document(vendor="", product="", sha="6" * 64, source_file="a.pdf")
    b = make_document(vendor="", product="", sha="7" * 64, source_file="b.pdf")
    with Store.open(tmp_path) as store:
        store.save_document(a)
        store.save_document(b)
        assert len(store.current_documents()) == 2


def test_same_content_is_stored_once_and_survives_reopen(tmp_path):
    doc = make_document()
    with Store.open(tmp_path) as store:
        store.save_document(doc)
        store.save_document(doc)
    with Store.open(tmp_path) as store:
        assert store.has_sha(doc.sha256)
        assert len(store.history()) == 1
        assert not store.has_sha("f" * 64)


def test_reviewer_edits_and_failures_persist(tmp_path):
    with Store.open(tmp_path) as store:
        store.save_reviews({"R-1": {"対応状況": "協議中", "メモ": "営業に確認"}})
        store.record_failure("bad.pdf", "暗号化されています", "encrypted", "e" * 64)
    with Store.open(tmp_path) as store:
        assert store.reviews()["R-1"] == {"対応状況": "協議中", "担当": "", "対応方針": "", "期限": "", "メモ": "営業に確認", "リスク評価": ""}
        [failure] = store.failures()
    assert failure["source_file"] == "bad.pdf" and failure["kind"] == "encrypted"


def test_a_dated_ledger_replaces_the_same_ledger_of_another_date_and_no_other(tmp_path):
    """機器台帳_2025 → 機器台帳_20260401: one ledger at two dates (the dates in the names decide, whatever order
    they arrive in); 機器台帳_病棟 is another ledger and stays current."""
    from extractors.ledger import ledger_series

    assert ledger_series("機器台帳_20260401.xlsx") == ("機器台帳", dt.date(2026, 4, 1))
    assert ledger_series("機器台帳（令和8年度）最新版.xlsx") == ("機器台帳", dt.date(2026, 4, 1))
    assert ledger_series("機器台帳 (1).xlsx") == ("機器台帳", None)
    assert ledger_series("機器台帳_病棟.csv")[0] == "機器台帳病棟" != ledger_series("機器台帳_放射線・検査.xlsx")[0]
    assert ledger_series("2026.xlsx") == ("2026", dt.date(2026, 1, 1))  # nothing but a date: its own ledger

    def ledger(name: str, sha: str):
        return make_document(vendor="", product="", family="device_ledger", created=None, sha=sha * 64,
                             items=[], source_file=name)

    newer, older, ward = ledger("機器台帳_20260401.xlsx", "7"), ledger("機器台帳_2025.xlsx", "8"), ledger(
        "機器台帳_病棟.csv", "9")
    with Store.open(tmp_path) as store:
        for d in (newer, older, ward):  # the older one dropped last
            store.save_document(d)
        current = {d.source_file for d in store.current_ledgers()}
        history = {h.source_file: h for h in store.history()}
    assert current == {"機器台帳_20260401.xlsx", "機器台帳_病棟.csv"}
    assert history["機器台帳_2025.xlsx"].superseded_by == newer.document_id


def test_ledgers_stored_under_their_whole_file_name_join_their_ledger(tmp_path):
    """A store written before dated names were one ledger keyed each ledger by its whole name: the next ledger
    saved moves them to their ledger's key, so 機器台帳_2025 does not stay current beside 機器台帳_2026."""
    def ledger(name: str, sha: str):
        return make_document(vendor="", product="", family="device_ledger", created=None, sha=sha * 64,
                             items=[], source_file=name)

    old = ledger("機器台帳_2025.xlsx", "a")
    with Store.open(tmp_path) as store:
        store.save_document(old)
        store.conn.execute("UPDATE documents SET submission_key = 'device_ledger|機器台帳_2025'")  # the old key
        store.conn.commit()
        store.save_document(ledger("機器台帳_2026.xlsx", "b"))
        assert [d.source_file for d in store.current_ledgers()] == ["機器台帳_2026.xlsx"]


def test_a_stored_document_is_dataclasses_asdict_of_it(tmp_path):
    """extractors.model.plain (Document.to_dict) gives what dataclasses.asdict gives, on documents of every kind
    the store keeps: answers with locations, a device ledger, vulnerability feeds and SBOMs."""
    from dataclasses import asdict

    from extractors import extract
    from extractors.model import plain
    from samples.feeds import build_feeds

    documents = [make_document()]
    for path, _ in build_feeds(tmp_path):
        try:
            documents.append(extract(path))
        except Exception:  # noqa: BLE001 - a feed file a reader refuses has no document to store
            continue
    kinds = {d.family for d in documents}
    assert {"device_ledger", "vuln_feed", "sbom"} <= kinds, kinds
    assert any(d.devices for d in documents) and any(d.vulnerabilities for d in documents)
    assert any(d.components for d in documents)
    for doc in documents:
        assert plain(doc) == asdict(doc)
        assert doc.to_dict()["document_id"] == doc.document_id


def test_the_runs_table_answers_through_the_store(tmp_path):
    """Store.last_run_id / last_run_started / last_finished_as_of / last_run_summary: an unfinished run is the
    newest run but has no summary and no evaluation date of a finished run."""
    with Store.open(tmp_path) as store:
        assert store.last_run_id() == 0 and store.last_run_started() is None
        assert store.last_finished_as_of() is None and store.last_run_summary() is None
        first = store.start_run(dt.date(2026, 11, 1))
        store.finish_run(first, {"read": ["a.xlsx"]})
        second = store.start_run(dt.date(2026, 11, 2))
        assert store.last_run_id() == second > first
        assert store.last_run_started() is not None
        assert store.last_finished_as_of() == "2026-11-01"
        assert store.last_run_summary() == {"read": ["a.xlsx"]}
        assert store.last_run_summary(after=first) is None
