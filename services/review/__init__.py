"""The review service: leadership reviews (R1–R5), work journals (R6), guidance visits (R7)."""
