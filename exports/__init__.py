"""Versioned releases with provenance manifests: built by the "Releases" issue (#7)."""
