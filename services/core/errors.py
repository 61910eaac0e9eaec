"""Exceptions that carry a user-facing message (CLI exit code 2, HTTP 4xx/503)."""

from __future__ import annotations


class BeaconError(Exception):
    """Base class for errors whose message is safe and useful to show a user."""


class InputError(BeaconError):
    """Bad input: the message names the file, row and field."""


class DatabaseUnavailable(BeaconError):
    """The database cannot be reached right now; retry later."""


class JobAlreadyRunning(BeaconError):
    """Another run of the same job holds its advisory lock."""
