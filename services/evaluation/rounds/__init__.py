"""Mass evaluation rounds (E1–E5, E7) and the evaluation calendar (E4)."""
