"""Instrument families: one folder each, found by listing this folder (see registry.py)."""
