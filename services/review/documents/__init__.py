"""Printable pages and workbooks of the review service: the review ledger as an Excel
workbook (`ledger_xlsx`)."""
