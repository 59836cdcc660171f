"""Audit mechanism (A4, A6): Merkle trees, signed checkpoints, portable bundles, and the
offline verifier."""
