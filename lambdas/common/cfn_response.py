"""Answers CloudFormation custom-resource requests (the pre-signed S3 URL protocol)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Literal

Status = Literal["SUCCESS", "FAILED"]
# CloudFormation rejects responses over 4 KiB; a reason is the only free-text part.
MAX_REASON = 1000


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
