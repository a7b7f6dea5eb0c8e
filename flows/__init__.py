"""Prefect flows over the synthir core. The core never imports prefect; these modules do."""

import os

# Offline-friendly defaults, set before prefect is imported: no analytics, and a generous
# start-up timeout for the temporary server on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def redact_logs() -> None:
    """Mask secrets (synthir.redact) in every line the flow's log handlers write (the root's
    and Prefect's); the flows' command lines call it once."""
    import logging

    from synthir.redact import install_log_filter

    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        install_log_filter(logging.getLogger(name))
