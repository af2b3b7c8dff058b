"""Reading ahead while Prefect starts (pipeline/prefetch.py): the flow gets the same result as reading the file
itself, only for the bytes that were read, and nothing is read twice."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from extractors import file_sha256
from pipeline import prefetch
from pipeline.isolation import WorkerPool
from pipeline.scale import extract_timed, read_in_pool
from tests.office_files import small_mds


@pytest.fixture()
def pool():
    p = WorkerPool(1)
    yield p
    p.shutdown()


def _inbox(tmp_path: Path, n: int) -> list[Path]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    paths = []
    for i in range(n):
        path = inbox / f"開示書{i}.xlsx"
        path.write_bytes(small_mds(f"架空先読み{i}株式会社", remark=f"備考{i}"))
        paths.append(path)
    return paths


def _wait_listed(ahead: prefetch.Prefetch) -> None:
    done = threading.Event()

    def check():
        with ahead._cond:  # noqa: SLF001 - the test waits for the listing thread, bounded
            ahead._cond.wait_for(lambda: ahead._listed and not ahead._pending and not ahead._running, timeout=120)
        done.set()

    threading.Thread(target=check, daemon=True).start()
    assert done.wait(180)


def test_read_ahead_gives_the_flow_what_reading_now_gives(tmp_path, pool):
    paths = _inbox(tmp_path, 3)
    ahead = prefetch.start(tmp_path / "inbox", tmp_path / "out", pool, _reader(pool))
    try:
        _wait_listed(ahead)
        for path in paths:
            sha = file_sha256(path)
            status, value = prefetch.take(path, sha)
            assert status == "ok"
            document = value[0][0]  # runlog.collecting: ((document, reason, kind, timings), records)
            direct = extract_timed(path, sha)[0]
            assert [(i.item_id, i.answer, i.remark, i.needs_review) for i in document.items] == [
                (i.item_id, i.answer, i.remark, i.needs_review) for i in direct.items]
            assert prefetch.take(path, sha) is None  # taken once: a second ask reads again
        assert (ahead.read, ahead.used) == (3, 3)
    finally:
        prefetch.stop()


def test_a_file_changed_after_its_hash_is_read_by_the_flow_itself(tmp_path, pool):
    [path] = _inbox(tmp_path, 1)
    old_sha = file_sha256(path)
    ahead = prefetch.start(tmp_path / "inbox", tmp_path / "out", pool, _reader(pool))
    try:
        _wait_listed(ahead)
        path.write_bytes(small_mds("架空書き換え株式会社"))  # the copy went on after it was read
        assert prefetch.take(path, file_sha256(path)) is None  # other bytes: never the earlier reading
        assert prefetch.take(path, old_sha)[0] == "ok"  # kept under the bytes it was read from only
    finally:
        prefetch.stop()


def test_files_already_stored_are_not_read_ahead(tmp_path, pool):
    from pipeline.store import Store

    paths = _inbox(tmp_path, 2)
    with Store.open(_out(tmp_path)) as store:
        store.save_document(extract_timed(paths[0], file_sha256(paths[0]))[0])
    ahead = prefetch.start(tmp_path / "inbox", tmp_path / "out", pool, _reader(pool))
    try:
        _wait_listed(ahead)
        assert ahead.read == 1
        assert prefetch.take(paths[0], file_sha256(paths[0])) is None
        assert prefetch.take(paths[1], file_sha256(paths[1]))[0] == "ok"
    finally:
        prefetch.stop()


def test_no_read_ahead_when_turned_off_or_without_a_pool(tmp_path, pool, monkeypatch):
    _inbox(tmp_path, 1)
    assert prefetch.start(tmp_path / "inbox", tmp_path / "out", None, None) is None
    monkeypatch.setenv("MDSGAP_PREFETCH", "0")
    assert prefetch.start(tmp_path / "inbox", tmp_path / "out", pool, _reader(pool)) is None


def _reader(pool):
    return lambda path, sha: read_in_pool(pool, path, sha)


def _out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    os.makedirs(out, exist_ok=True)
    return out
