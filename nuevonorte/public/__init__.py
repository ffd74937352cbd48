"""The public archive, in the visitor's language."""
