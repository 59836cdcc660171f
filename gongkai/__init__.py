"""The `gongkai` command line: `operator/` (serve, tokens, rebuild, republish, audit, asyncapi;
shipped in the image), `develop/` (the stack on one machine, demo and generated data) and
`bench/` (the benchmarks, with the `bench` extra); `main.py` assembles them."""
