"""Writes owned by the project package: API tokens."""

import logging

from django.contrib.auth import get_user_model

from helpdesk.models import ApiToken, hash_token

logger = logging.getLogger(__name__)


def api_token_create(*, username: str) -> str:
    """Create an API token for the user and return the raw token, which is never stored."""
    user = get_user_model().objects.get(username=username)
    raw_token = ApiToken.generate_raw_token()
    ApiToken.objects.create(user=user, token_hash=hash_token(raw_token), prefix=raw_token[:8])
    logger.info("API token created", extra={"user_id": user.pk})
    return raw_token
