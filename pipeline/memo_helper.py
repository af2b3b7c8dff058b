"""The negotiation memos of a one-shot run, written by a helper process while the run writes the reports.

The end of `mdsgap run` works on one core: the readers have stopped, and rules, register, reports and memos
follow one another. The memos (python-docx, about half of the report stage) need only the current documents
and the register, so a helper writes them meanwhile:

- `MemoHelper()` is made as soon as every file is read: a worker of its own (`pipeline.isolation`, forked from
  the forkserver, with the same memory limit and cleanup as a reading worker) starts and loads the memo code
  on the idle core while the rules and the register are worked out;
- `submit(out, documents, register_df)` hands it the memos' inputs, and the run writes the reports;
- `collect()` gives the memo paths, or None when the helper failed (it died, ran out of memory or time, or
  build_memos raised): the caller then writes the memos itself, as without a helper, so a failure of the
  helper costs time, never a memo.

A thread of the run waits for the helper: waiting on its pipe holds no lock the run needs.
"""
from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

from pipeline.isolation import WorkerPool
from pipeline.scale import file_time_limit, hard_time_limit

log = logging.getLogger(__name__)


def load_memo_code() -> None:
    """Run in the helper before its job: the memo module and what it imports (python-docx)."""
    import pipeline.memo  # noqa: F401


def write_memos(out: Path, documents: list, register_df) -> list[Path]:
    """Run in the helper: pipeline.memo.build_memos for every vendor (named here, so that the run's process
    need not import pipeline.memo and python-docx to send it)."""
    from pipeline.memo import build_memos

    return build_memos(out, documents, register_df)


class MemoHelper:
    def __init__(self) -> None:
        self.pool = WorkerPool(1)
        self._jobs: queue.Queue = queue.Queue()
        self._answer: tuple[str, object] = ("error", "not submitted")
        self._thread = threading.Thread(target=self._work, name="mdsgap-memo-helper")
        self._thread.start()

    def _work(self) -> None:
        limit = hard_time_limit(file_time_limit())
        ready = self.pool.call(load_memo_code, (), limit)
        job = self._jobs.get()
        if job is None:
            return
        self._answer = self.pool.call(write_memos, job, limit) if ready[0] == "ok" else ready

    def submit(self, out: Path, documents: list, register_df) -> None:
        self._jobs.put((Path(out), documents, register_df))

    def collect(self) -> list[Path] | None:
        """The memos' paths, or None when the caller must write them itself."""
        self._thread.join()
        status, value = self._answer
        if status == "ok":
            return value
        log.info("the memo helper did not write the memos (%s: %s): written by the run itself", status, value)
        return None

    def close(self) -> None:
        """End the helper whether or not it had a job (a run stopped or without reports)."""
        self._jobs.put(None)
        self.pool.shutdown()
        self._thread.join(timeout=5)
