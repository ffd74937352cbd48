"""The contribution flow and "my stories" for contributors."""
