"""Erasure: forget items (one, a data subject's, a source's) and withdraw the releases that held them
(docs/GOVERNANCE.md#erasure). services.py writes, selectors.py reads, keys.py hashes."""
