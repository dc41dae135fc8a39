"""Error bodies of the JSON API, all shaped {"message": ..., "errors": [{"field", "message"}]}.

errors is always a list: empty when the error concerns the request as a whole, one item per
invalid parameter or body field otherwise.
"""

import logging
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Schema
from ninja.errors import HttpError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/platform/helpdesk/"
OPENAPI_PATH = f"{API_PREFIX}openapi.json"


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    message: str
    errors: list[FieldErrorOut] = []


class FieldError(HttpError):
    """An HttpError caused by one request parameter, which the body's errors list names."""

    def __init__(self, status_code: int, *, field: str, message: str) -> None:
        super().__init__(status_code, message)
        self.field = field


def error_body(*, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"message": message, "errors": errors or []}


def validation_errors_list(*, errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Turn ninja's validation errors into {"field", "message"} items."""
    return [
        {"field": error_field(location=error.get("loc", ())), "message": error["msg"]}
        for error in errors
    ]


def error_field(*, location: tuple | list) -> str:
    """Name the field from a location such as ("body", "payload", "reason") or ("query", "limit").

    A body location also carries the endpoint's parameter name ("payload"), which callers never
    send, so it is dropped.
    """
    source, *path = location or ("request",)
    if source == "body" and len(path) > 1:
        path = path[1:]
    return ".".join(str(part) for part in path) or str(source)


def api_not_found_response(request: HttpRequest) -> JsonResponse:
    message = (
        f"No API endpoint at {request.path}: "
        f"the OpenAPI document at {OPENAPI_PATH} lists every endpoint."
    )
    return JsonResponse(error_body(message=message), status=404)


def method_not_allowed_response(request: HttpRequest, *, allow: str) -> JsonResponse:
    allowed = ", ".join(method.strip() for method in allow.split(",") if method.strip())
    message = f"Method {request.method} is not allowed on {request.path}: use {allowed}."
    response = JsonResponse(error_body(message=message), status=405)
    response["Allow"] = allow
    return response


def api_view_errors_as_json(view):
    """Wrap an API URL's view so that the errors ninja returns in plain text or HTML are JSON.

    ninja rejects a method no operation accepts with a text/html 405, and the API root raises
    Http404 outside any operation, so Django would render its HTML 404 page.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return api_not_found_response(request)

        if response.status_code == 405 and not is_json(response):
            return method_not_allowed_response(request, allow=response.get("Allow", ""))
        return response

    return wrapper


def is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
