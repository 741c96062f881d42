"""Label Studio tasks -> Tessera answers (pure): convert.py is the entry point; results.py converts each
result type."""
