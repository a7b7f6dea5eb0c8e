"""Filters: each takes records and returns (kept, rejected-with-reason)."""
