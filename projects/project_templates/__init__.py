"""Project templates (issue #16 item 4): a gallery of ready-made projects (schema, guidelines skeleton,
settings), kept as data in gallery/*.json, listed by `GET /api/project-templates/`, previewed and
created from on the new-project page (/projects/new/). docs/MANAGING.md describes them."""
