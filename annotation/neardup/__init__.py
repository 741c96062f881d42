"""Near-duplicate items: detection (MinHash/LSH over text, dHash over images), groups, resolution."""
