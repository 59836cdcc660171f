"""The annual selection (S1–S3)."""
