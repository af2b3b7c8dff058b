"""The pipeline: inbox → extract → store → rules → register and answers table.

Prefect runs embedded: its state lives inside the project (`.prefect/`), analytics are off (the server's, and
the SDK's telemetry, which Prefect sends to Amplitude from an interactive terminal unless DO_NOT_TRACK is set)
and the ephemeral server gets 90 s to start. These are defaults only; values the user set are kept.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_PREFECT_DEFAULTS = {
    "PREFECT_HOME": str(PROJECT_ROOT / ".prefect"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


def configure_prefect_environment() -> None:
    """Set the embedded-Prefect defaults without clobbering what the user set. Call before importing prefect."""
    for key, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


configure_prefect_environment()
