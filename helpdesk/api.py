"""The JSON API under /api/platform/helpdesk/, assembled from each app's router.

Every error it returns is JSON shaped {"message": ..., "errors": [{"field", "message"}]}; see
helpdesk.api_errors.
"""

import logging

from django.http import Http404, RawPostDataException
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from actions.api import router as actions_router
from customers.api import router as customers_router
from diagnostics.api import router as diagnostics_router
from helpdesk.api_errors import FieldError, error_body, validation_errors_list
from helpdesk.api_parser import (
    JSON_MAX_DEPTH,
    NESTING_MESSAGE,
    JsonBodyParser,
    RequestBodyError,
    json_depth_exceeds,
)
from helpdesk.auth import (
    AUTHENTICATION_REQUIRED_MESSAGE,
    ApiTokenAuth,
    OperatorSessionAuth,
    api_login_required,
)
from telemetry.api import router as telemetry_router

logger = logging.getLogger(__name__)

# The docs page is Swagger UI served from ninja's own static files (ninja is in INSTALLED_APPS),
# because the site's Content Security Policy blocks scripts from a CDN.
api = NinjaAPI(
    title="Help desk API",
    version="1.0.0",
    description="Customer search, overview, timeline, Issue Detective and quick actions.",
    auth=[ApiTokenAuth(), OperatorSessionAuth()],
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs=Swagger(),
    docs_url="/docs",
    docs_decorator=api_login_required,
    parser=JsonBodyParser(),
)


@api.exception_handler(ValidationError)
def handle_validation_error(request, exc: ValidationError):
    body = error_body(
        message="The request is invalid; see errors for each field.",
        errors=validation_errors_list(errors=exc.errors),
    )
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def handle_authentication_error(request, exc: AuthenticationError):
    body = error_body(message=AUTHENTICATION_REQUIRED_MESSAGE)
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def handle_http_error(request, exc: HttpError):
    if isinstance(exc, FieldError):
        errors = [{"field": exc.field, "message": str(exc)}]
        return api.create_response(
            request, error_body(message=str(exc), errors=errors), status=exc.status_code
        )

    # ninja reports a body its parser rejected as "Cannot parse request body". The parser's own
    # error, kept as the cause, names what is wrong and what to send instead.
    message = str(exc.__cause__) if isinstance(exc.__cause__, RequestBodyError) else str(exc)
    return api.create_response(request, error_body(message=message), status=exc.status_code)


@api.exception_handler(Http404)
def handle_not_found(request, exc: Http404):
    message = str(exc) or "Not found."
    return api.create_response(request, error_body(message=message), status=404)


@api.exception_handler(RecursionError)
def handle_recursion_error(request, exc: RecursionError):
    """Return 400 when an endpoint that reads its body itself hit a body nested too deep."""
    try:
        body = request.body
    except RawPostDataException:
        body = b""

    if json_depth_exceeds(body=body, limit=JSON_MAX_DEPTH):
        logger.info("API request body nested too deep", extra={"path": request.path})
        return api.create_response(request, error_body(message=NESTING_MESSAGE), status=400)
    return handle_unexpected_error(request, exc)


@api.exception_handler(Exception)
def handle_unexpected_error(request, exc: Exception):
    logger.error(
        "API request failed",
        exc_info=exc,
        extra={"path": request.path, "method": request.method},
    )
    body = error_body(message="Internal server error: the failure was logged. Retry later.")
    return api.create_response(request, body, status=500)


api.add_router("/customers/", customers_router)
api.add_router("/", diagnostics_router)
api.add_router("/", actions_router)
api.add_router("/ingest/", telemetry_router)
