"""Import pipeline: parse (pure, streaming) -> normalise and hash (pure) -> load in bulk (database)."""
