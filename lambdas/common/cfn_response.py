"""Answers CloudFormation custom-resource requests (the pre-signed S3 URL protocol)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any, Literal, Protocol

Status = Literal["SUCCESS", "FAILED"]
# CloudFormation rejects responses over 4 KiB; a reason is the only free-text part.
MAX_REASON = 1000


class _ErrorLog(Protocol):
    def exception(self, msg: str) -> None: ...


def response_body(
    event: dict[str, Any],
    *,
    status: Status,
    physical_id: str,
    reason: str = "",
    data: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON document CloudFormation expects for `event`."""
    return {
        "Status": status,
        "Reason": reason[:MAX_REASON] or status,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": data or {},
    }


def send(
    event: dict[str, Any],
    *,
    status: Status,
    physical_id: str,
    reason: str = "",
    data: dict[str, str] | None = None,
    timeout_s: float = 30.0,
) -> None:
    """PUT the response to the request's pre-signed URL."""
    body = json.dumps(
        response_body(event, status=status, physical_id=physical_id, reason=reason, data=data)
    ).encode()
    url = event["ResponseURL"]
    if not url.startswith("https://"):
        raise ValueError("CloudFormation response URLs are https")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        response.read()


def answer(
    event: dict[str, Any],
    *,
    default_physical_id: str,
    on_change: Callable[[], dict[str, str]],
    logger: _ErrorLog,
    failure: str,
) -> None:
    """Run `on_change` for Create/Update, then answer CloudFormation, also when it fails.

    Delete only answers (each handler says why it leaves its resource alone). A stack waits
    up to an hour for an answer that never comes, so every error becomes a FAILED response.
    """
    physical_id = event.get("PhysicalResourceId") or default_physical_id
    try:
        data = on_change() if event["RequestType"] in ("Create", "Update") else {}
        send(event, status="SUCCESS", physical_id=physical_id, data=data)
    except Exception as error:
        logger.exception(failure)
        send(
            event,
            status="FAILED",
            physical_id=physical_id,
            reason=f"{type(error).__name__}: {error}",
        )
