"""Telegraf execd input plugins for laboratory instruments."""

__version__ = "0.1.0"
