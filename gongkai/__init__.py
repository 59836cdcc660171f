"""The `gongkai` command line: run the stack, issue local tokens, load demo data, benchmark."""
