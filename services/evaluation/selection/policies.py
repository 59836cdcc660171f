"""Reactions of the annual selection: none. The pledges and leadership reviews it scores from
are projected into its copies (projections/), not reacted to."""
