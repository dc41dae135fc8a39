"""API tokens for scripts and services that call the JSON API."""

import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "hd_"  # noqa: S105  a marker, not a secret


def hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 digest is stored, so a database leak reveals no token."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # First characters of the token, so an operator can tell tokens apart in the admin.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def generate_raw_token() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
