"""OTLP/HTTP receivers for traces, logs and metrics: parse, authenticate, delegate to ingest."""

import hmac
import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telemetry import otlp, services
from telemetry.request_body import RequestBodyError, request_body_read

logger = logging.getLogger(__name__)


def ingest_token_valid(*, authorization: str) -> bool:
    """Check an Authorization header against settings.INGEST_TOKENS in constant time."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    token = token.strip().encode()
    return any(hmac.compare_digest(token, known.encode()) for known in settings.INGEST_TOKENS)


def otlp_receive(
    *, request: HttpRequest, signal: otlp.OtlpSignal, ingest: Callable
) -> HttpResponse:
    """Run one OTLP/HTTP export: every failure becomes a google.rpc.Status response."""
    header = request.headers.get("Content-Type", "")
    reply_type = otlp.PROTOBUF if header.lower().startswith(otlp.PROTOBUF) else otlp.JSON
    try:
        if not ingest_token_valid(authorization=request.headers.get("Authorization", "")):
            raise otlp.OtlpError(
                401, "Missing or invalid ingest token: send 'Authorization: Bearer TOKEN'."
            )
        decoded = _request_decode(request=request, signal=signal)
    except RequestBodyError as error:
        logger.info(
            "OTLP export rejected",
            extra={"signal": signal.name, "status": error.status, "error": error.message},
        )
        return _status_response(error=error, content_type=reply_type)

    result = ingest(request=decoded.message)
    response = otlp.export_response(
        signal=signal,
        rejected=decoded.rejected + result.rejected,
        errors=decoded.errors + result.errors,
    )
    return HttpResponse(
        otlp.response_encode(message=response, content_type=decoded.content_type),
        content_type=decoded.content_type,
    )


def _request_decode(*, request: HttpRequest, signal: otlp.OtlpSignal) -> otlp.DecodedRequest:
    content_type = otlp.content_type_parse(header=request.headers.get("Content-Type", ""))
    body = request_body_read(request=request, max_bytes=settings.INGEST_MAX_BODY_BYTES)
    return otlp.request_decode(signal=signal, body=body, content_type=content_type)


def _status_response(*, error: RequestBodyError, content_type: str) -> HttpResponse:
    status = otlp.status_message(status=error.status, message=error.message)
    response = HttpResponse(
        otlp.response_encode(message=status, content_type=content_type),
        content_type=content_type,
        status=error.status,
    )
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ingest"'
    return response


@csrf_exempt
@login_not_required
@require_POST
def traces_receive(request: HttpRequest) -> HttpResponse:
    return otlp_receive(request=request, signal=otlp.TRACES, ingest=services.traces_ingest)


@csrf_exempt
@login_not_required
@require_POST
def logs_receive(request: HttpRequest) -> HttpResponse:
    return otlp_receive(request=request, signal=otlp.LOGS, ingest=services.logs_ingest)


@csrf_exempt
@login_not_required
@require_POST
def metrics_receive(request: HttpRequest) -> HttpResponse:
    return otlp_receive(request=request, signal=otlp.METRICS, ingest=services.metrics_ingest)
