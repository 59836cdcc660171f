"""`python -m gongkai ...`, as the `gongkai` script."""

from gongkai.main import app

app(prog_name="gongkai")
