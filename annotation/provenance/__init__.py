"""Provenance (#18): where items came from. A project-scoped `ProvenanceSource` (annotation/models/
provenance.py) has a kind (public, licensed, scraped, user, synthetic, internal) and terms checked per
kind (terms.py, pure); import jobs and bucket sources point at one and their items carry its id."""
