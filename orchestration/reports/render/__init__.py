"""Rendering of the terminal views: pure functions from plain rows to text, tested without a
warehouse."""
