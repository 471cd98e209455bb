"""Bundled data files (evidence tables)."""
