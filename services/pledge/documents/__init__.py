"""Printable pages and workbooks: the pledge letter and card (P7), the ledger workbook (P8)."""
