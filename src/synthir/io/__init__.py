"""Input/output helpers: corpus readers and atomic JSONL/Parquet files."""
