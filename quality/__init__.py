"""Agreement, consensus and gold standards: built by the "Quality" issue (#6)."""
