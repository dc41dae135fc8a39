"""The JSON API under /api/platform/helpdesk/, assembled from each app's router."""

import logging

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from actions.api import router as actions_router
from customers.api import router as customers_router
from diagnostics.api import router as diagnostics_router
from helpdesk.auth import ApiTokenAuth
from telemetry.api import router as telemetry_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Help desk API",
    version="1.0.0",
    description="Customer search, overview, timeline, Issue Detective and quick actions.",
    auth=[ApiTokenAuth(), django_auth],
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def handle_validation_error(request, exc: ValidationError):
    return api.create_response(
        request,
        {"message": "The request is invalid; see errors for each field.", "errors": exc.errors},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def handle_authentication_error(request, exc: AuthenticationError):
    return api.create_response(
        request,
        {"message": "Authentication required: send 'Authorization: Bearer TOKEN' or log in."},
        status=401,
    )


@api.exception_handler(HttpError)
def handle_http_error(request, exc: HttpError):
    return api.create_response(request, {"message": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def handle_not_found(request, exc: Http404):
    message = str(exc) or "Not found."
    return api.create_response(request, {"message": message}, status=404)


api.add_router("/customers/", customers_router)
api.add_router("/", diagnostics_router)
api.add_router("/", actions_router)
api.add_router("/ingest/", telemetry_router)
