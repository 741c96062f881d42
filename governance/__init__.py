"""Governance: what may be kept, released and must be forgotten (docs/GOVERNANCE.md).

Sits above exports in the layers (`config | demo > governance > exports > ...`): erasure and retention
reach items, annotations, media, near-duplicate entries and published releases. Per-item provenance,
consent/licence and personal-data findings live with the items (annotation); the release policy lives
with releases (exports); this app holds what crosses them.
"""
