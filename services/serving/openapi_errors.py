"""Put every error status the API can return into the OpenAPI document, with its schema."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel


class FieldError(BaseModel):
    """One invalid field: where (`loc`), what kind (`type`), and a message; never the input."""

    type: str
    loc: list[str | int]
    msg: str
    ctx: dict[str, float] | None = None


class ErrorResponse(BaseModel):
    """Every error body: a message, or the list of invalid fields (422 from validation)."""

    detail: str | list[FieldError]


_DESCRIPTIONS = {
    "400": "The request cannot be served as asked (the detail says why).",
    "409": "Conflicts with stored data (or a job already running).",
    "413": "The request body is larger than this endpoint accepts.",
    "422": "Invalid input; the detail names each invalid field.",
    "503": "A dependency (database, model, answer backend) is not available; retry after "
    "the Retry-After header's seconds.",
}
_OPERATIONS = ("/health", "/ready", "/metrics")


def _errors_for(method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["400", "422", "503"]
    if "requestBody" in operation:
        codes.append("413")
    if method in ("post", "delete"):
        codes.append("409")
    return codes


#: Request models whose `top_k` is bounded by the max_top_k setting rather than the model.
_TOP_K_MODELS = ("RecommendRequest", "QARequest")


def document_errors(app: FastAPI, *, max_top_k: int | None = None) -> None:
    """Replace `app.openapi` with one that lists each route's error responses.

    FastAPI documents only what a route declares; the error handlers (domain errors, body
    limit, database refusals) can answer 400/409/413/422/503 on any workload route, and every
    error body has the same schema.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorResponse"] = ErrorResponse.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components.update(components["ErrorResponse"].pop("$defs", {}))
        for stale in ("HTTPValidationError", "ValidationError"):
            components.pop(stale, None)
        for model in _TOP_K_MODELS:
            top_k = components.get(model, {}).get("properties", {}).get("top_k")
            if top_k is not None and max_top_k is not None:
                top_k["maximum"] = max_top_k  # a setting, so not in the pydantic model
        error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
        error_body = {"application/json": {"schema": error_ref}}
        plain = {"schema": {"type": "string"}}
        for path, operations in schema["paths"].items():
            if path in _OPERATIONS:  # their bodies are their own (ReadyResponse)
                continue
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code in _errors_for(method, operation):
                    responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
                for code, response in responses.items():
                    if code.startswith(("4", "5")):
                        response["content"] = error_body
                        if code == "413":
                            # The body limiter answers before the app, in plain text.
                            response["content"] = {**error_body, "text/plain": plain}
                        if code == "422":
                            response["description"] = _DESCRIPTIONS["422"]
                        if code == "503":
                            response["headers"] = {
                                "Retry-After": {
                                    "description": "Seconds to wait before retrying.",
                                    "schema": {"type": "string"},
                                }
                            }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
