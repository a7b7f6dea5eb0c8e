"""Pydantic models shared by the core library and the flows: records and the run config."""

from data_schemas.config import RunConfig
from data_schemas.records import Generated, Passage, Provenance, QueryRecord, Rejected

__all__ = ["RunConfig", "Passage", "Provenance", "QueryRecord", "Rejected", "Generated"]
