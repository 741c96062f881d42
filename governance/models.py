"""Governance models (erasure tombstones, retention runs). See docs/GOVERNANCE.md."""
