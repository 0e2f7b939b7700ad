"""Error analysis of a model on annotated data: where it goes wrong, how sure it was, and what to review."""
