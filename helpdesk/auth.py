"""Authentication for the JSON API: a bearer API token, or the operator's session."""

import logging
from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer

from helpdesk.models import ApiToken, hash_token

logger = logging.getLogger(__name__)

# last_used_at is refreshed at most this often: a write per request would serialize clients
# sharing a token on its row lock.
LAST_USED_RESOLUTION = timedelta(minutes=5)


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
