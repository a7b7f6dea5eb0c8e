"""Prefect flows over the synthir core. The core never imports prefect; these modules do."""

import os

# Offline-friendly defaults, set before prefect is imported: no analytics, and a generous
# start-up timeout for the temporary server on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
