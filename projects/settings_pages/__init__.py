"""The project settings area (issue #16 item 3): every lever of a project on one page, grouped, each
explained in one sentence with its default, saved through the same service as
`PATCH /api/projects/<id>/` (a JSON merge patch), and per-member overrides on the Members tab.

levers.py is the pure catalogue; views.py the pages. docs/MANAGING.md is the manager's guide."""
