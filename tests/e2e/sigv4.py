"""SigV4 signing for httpx, so the smoke suite can call the deployed API as an IAM client."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx

# Headers worth signing; httpx adds others (user agent, accept) that need not be.
SIGNED = ("host", "content-type", "x-api-key")


class SigV4(httpx.Auth):
    """Signs each request for API Gateway (`execute-api`) with the ambient AWS credentials."""

    requires_request_body = True

    def __init__(self, region: str, credentials: Any = None) -> None:
        if credentials is None:
            import boto3

            credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials to sign with (assume the client's role first)")
        self.region = region
        self.credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        headers = {k: v for k, v in request.headers.items() if k.lower() in SIGNED}
        signed = AWSRequest(
            method=request.method, url=str(request.url), data=request.content, headers=headers
        )
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        yield request
