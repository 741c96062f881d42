"""Tasks, assignments, annotations and review: built by the "Labeling workflow" issue (#4)."""
