"""Exceptions that carry a user-facing message and their HTTP status (CLI exit code 2)."""

from __future__ import annotations

from typing import ClassVar


class BeaconError(Exception):
    """Base class for errors whose message is safe and useful to show a user.

    Each subclass names its HTTP status; serving maps every BeaconError through `status`,
    `headers` and `public_detail` in one handler, and the CLI turns any of them into one line
    on stderr and exit code 2.
    """

    #: The HTTP status of the error when it ends a request.
    status: ClassVar[int] = 400
    #: When set, the response says this instead of the message (which may name internals).
    public_message: ClassVar[str | None] = None

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers (e.g. a challenge with a 401)."""
        return {}

    @property
    def public_detail(self) -> str:
        """What the response body's `detail` says."""
        return self.public_message if self.public_message is not None else str(self)


class InputError(BeaconError):
    """Bad input: the message names the file, row and field."""

    status = 422


class NotFound(BeaconError):
    """The named resource (resume, posting, list, experiment, job) does not exist."""

    status = 404


class Conflict(BeaconError):
    """The request conflicts with the stored state (taken id, running job, not embedded)."""

    status = 409


class Unauthenticated(BeaconError):
    """No credentials; `challenge` names the header that would carry them."""

    status = 401

    def __init__(self, message: str, *, challenge: str) -> None:
        super().__init__(message)
        self.challenge = challenge

    @property
    def headers(self) -> dict[str, str]:
        """The WWW-Authenticate challenge."""
        return {"WWW-Authenticate": self.challenge}


class Forbidden(BeaconError):
    """Credentials present but not allowed (wrong key, another client's data)."""

    status = 403


class Unavailable(BeaconError):
    """A dependency (database, model, answer backend, encoder) cannot serve right now."""

    status = 503


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached right now; retry later."""

    public_message = "database unavailable"


class JobAlreadyRunning(Conflict):
    """Another run of the same job holds its advisory lock."""
