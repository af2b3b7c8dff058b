"""Progress events from a run to whoever shows them (the CLI's rich progress bar). Thread-safe; no-op by default."""
from __future__ import annotations

import threading
from typing import Callable

Listener = Callable[[str, dict], None]

_lock = threading.Lock()
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    global _listener
    with _lock:
        _listener = listener


def emit(event: str, **data) -> None:
    """Events: files_found(total), file_done(name, ok), stage(text)."""
    with _lock:
        listener = _listener
    if listener is not None:
        try:
            listener(event, data)
        except Exception:  # a display problem must never break a run
            pass
