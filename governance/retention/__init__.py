"""Retention: a project's rules (settings.retention) applied once a day (docs/GOVERNANCE.md#retention)."""
