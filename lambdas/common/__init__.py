"""Helpers shared by Beacon's Lambda handlers."""
