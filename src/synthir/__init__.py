"""synthir: synthetic training data for dense retrievers.

The core library is plain Python (no orchestrator): io, sampling, prompting, llm backends,
embedders, index, generators, filters, publish. `flows/` orchestrates it with Prefect.
"""

__version__ = "0.1.0"
