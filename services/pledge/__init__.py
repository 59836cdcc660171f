"""The pledge service: the directory (D1–D3) and public pledges (P1–P11)."""
