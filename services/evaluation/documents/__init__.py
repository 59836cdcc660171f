"""Printable pages and workbooks of the evaluation service."""
