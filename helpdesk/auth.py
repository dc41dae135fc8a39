"""Authentication for the JSON API: a bearer API token, or the operator's session."""

import logging
from datetime import timedelta
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from helpdesk.api_errors import error_body
from helpdesk.models import ApiToken, hash_token

logger = logging.getLogger(__name__)

# last_used_at is refreshed at most this often: a write per request would serialize clients
# sharing a token on its row lock.
LAST_USED_RESOLUTION = timedelta(minutes=5)

AUTHENTICATION_REQUIRED_MESSAGE = (
    "Authentication required: send 'Authorization: Bearer TOKEN' or log in."
)
CSRF_FAILED_MESSAGE = (
    "CSRF token missing or invalid: send the X-CSRFToken header from the csrftoken cookie, "
    "or use an API token."
)


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        api_token = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if api_token is None:
            logger.info("API token rejected", extra={"token_prefix": token[:6]})
            return None

        now = timezone.now()
        if api_token.last_used_at is None or api_token.last_used_at < now - LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user


class OperatorSessionAuth(SessionAuth):
    """The operator's session, checked for a CSRF token only once a user is logged in.

    ninja's SessionAuth checks CSRF before it looks at the user, so a request without any
    credentials got 403 "CSRF check Failed" where 401 names what is missing.
    """

    def __call__(self, request: HttpRequest):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def _get_key(self, request: HttpRequest) -> str | None:
        csrf_exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not csrf_exempt and check_csrf(request) is not None:
            logger.info("API session request without a CSRF token", extra={"path": request.path})
            raise HttpError(403, CSRF_FAILED_MESSAGE)
        return request.COOKIES.get(self.param_name)


def api_login_required(view):
    """Serve the view to a logged-in operator or a valid bearer API token, else return 401 JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated or ApiTokenAuth()(request) is not None:
            return view(request, *args, **kwargs)
        return JsonResponse(error_body(message=AUTHENTICATION_REQUIRED_MESSAGE), status=401)

    return wrapper
