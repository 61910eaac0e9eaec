"""Thin AWS Lambda handlers (Powertools): database bootstrap, API on Lambda, notifications."""
