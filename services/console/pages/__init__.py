"""The console's pages, one module per area of work; routes only (what to call, what to show)."""
