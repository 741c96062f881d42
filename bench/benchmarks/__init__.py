"""One module per benchmark, discovered by bench.run: each defines NAME, DESCRIPTION and run(ctx)."""
