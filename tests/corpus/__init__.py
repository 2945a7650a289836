"""Fixture builders for the data-loading tests (the broken-input corpus)."""
