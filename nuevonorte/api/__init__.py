"""The JSON API for partner tools."""
