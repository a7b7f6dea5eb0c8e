"""Publishing: an HF dataset repo layout (data/<config>/*.parquet + README.md card)."""
