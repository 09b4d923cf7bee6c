"""Environment defaults for quiet, offline-friendly runs; set before Prefect is imported."""

from __future__ import annotations

import os


def quiet_defaults(verbose: bool = False) -> None:
    """Telemetry off, logs at WARNING, progress bars of libraries off; a user's own settings win."""
    defaults = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # the temporary local server migrates its database on first use: give it time
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    if not verbose:
        defaults |= {
            "PREFECT_LOGGING_LEVEL": "WARNING", "TRANSFORMERS_VERBOSITY": "error",
            # a run's own lines (one per committed chunk, the summary) still reach Prefect's UI;
            # the terminal shows warnings only
            "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
            "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
        }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
