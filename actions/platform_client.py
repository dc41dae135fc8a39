"""HTTP client for the agent platform's control API (restart agents, retry workflows).

Errors come in two kinds that callers handle differently: PlatformUnavailable is transient and
worth retrying later, PlatformRejected means the platform refused the request and retrying the
same request will not help.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

TRANSIENT_STATUS_CODES = frozenset({502, 503, 504})
# Connecting to a healthy platform on the same network takes milliseconds, so a slow connect
# fails fast while the read timeout leaves room for a restart.
MAX_CONNECT_TIMEOUT_SECONDS = 3.0
# Attempts per call, and the wait before the second attempt; the wait doubles after each failure.
MAX_ATTEMPTS = 3
RETRY_BACKOFF_SECONDS = 0.5
RETRY_LATER_ADVICE = "Try again in a minute."


class PlatformError(Exception):
    """A control API call that failed, written for the operator.

    `detail` is what failed, `advice` what to do next (may be empty), and `message` is both.
    Callers that add their own next step use `detail`, so that advice is not given twice.
    """

    def __init__(self, detail: str, *, status_code: int | None = None, advice: str = "") -> None:
        self.detail = detail
        self.advice = advice
        self.message = f"{detail} {advice}" if advice else detail
        self.status_code = status_code
        super().__init__(self.message)


class PlatformUnavailable(PlatformError):
    """The platform could not be reached, timed out or responded 502, 503 or 504."""


class PlatformRejected(PlatformError):
    """The platform responded 4xx; `platform_message` is the platform's own error text."""

    def __init__(self, message: str, *, status_code: int, platform_message: str) -> None:
        super().__init__(message, status_code=status_code)
        self.platform_message = platform_message


@dataclass
class PlatformClient:
    base_url: str
    token: str
    timeout_seconds: float
    max_attempts: int = MAX_ATTEMPTS
    backoff_seconds: float = RETRY_BACKOFF_SECONDS
    # Ids such as the action id, added to every log line.
    log_context: dict[str, Any] = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def from_settings(cls, **overrides: Any) -> "PlatformClient":
        options = {
            "base_url": settings.PLATFORM_API_URL.rstrip("/"),
            "token": settings.PLATFORM_API_TOKEN,
            "timeout_seconds": settings.PLATFORM_API_TIMEOUT_SECONDS,
            "max_attempts": MAX_ATTEMPTS,
            "backoff_seconds": RETRY_BACKOFF_SECONDS,
        }
        return cls(**{**options, **overrides})

    def agent_get(self, *, customer_id: str, agent: str) -> dict:
        path = f"/v1/customers/{quote(customer_id, safe='')}/agents/{quote(agent, safe='')}"
        return self._request("GET", path)

    def agent_restart(self, *, customer_id: str, agent: str, reason: str) -> dict:
        path = f"/v1/customers/{quote(customer_id, safe='')}/agents/{quote(agent, safe='')}/restart"
        return self._request("POST", path, body={"reason": reason})

    def workflow_get(self, *, workflow_id: str) -> dict:
        return self._request("GET", f"/v1/workflows/{quote(workflow_id, safe='')}")

    def workflow_retry(self, *, workflow_id: str, from_step: int) -> dict:
        path = f"/v1/workflows/{quote(workflow_id, safe='')}/retry"
        return self._request("POST", path, body={"from_step": from_step})

    def _request(self, method: str, path: str, *, body: dict | None = None) -> dict:
        """Send one call, retrying transient failures up to max_attempts with backoff.

        NOTE: POSTs are retried too. A restart or a retry from the same step is safe to repeat,
        but a repeat after a read timeout may meet 409 if the first request did reach the
        platform.
        """
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._send_once(method, path, body=body, attempt=attempt)
            except PlatformUnavailable as error:
                if attempt == self.max_attempts:
                    raise
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                logger.warning(
                    "Platform call failed, retrying",
                    extra={
                        **self._extra(method, path, attempt),
                        "error": error.message,
                        "retry_in_seconds": delay,
                    },
                )
                time.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _send_once(self, method: str, path: str, *, body: dict | None, attempt: int) -> dict:
        url = self.base_url + path
        connect_timeout = min(MAX_CONNECT_TIMEOUT_SECONDS, self.timeout_seconds)
        logger.info("Platform call", extra=self._extra(method, path, attempt))
        try:
            response = self.session.request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=(connect_timeout, self.timeout_seconds),
            )
        except requests.Timeout as error:
            raise PlatformUnavailable(
                f"The platform did not respond to {method} {path} within "
                f"{self.timeout_seconds:g} s; it may be overloaded.",
                advice=RETRY_LATER_ADVICE,
            ) from error
        except requests.ConnectionError as error:
            raise PlatformUnavailable(
                f"The platform control API at {self.base_url} could not be reached "
                f"({type(error).__name__}); check that the platform is up.",
                advice=RETRY_LATER_ADVICE,
            ) from error

        return self._parse(response, method=method, path=path, attempt=attempt)

    def _parse(self, response: requests.Response, *, method: str, path: str, attempt: int) -> dict:
        status = response.status_code
        payload = _json_or_none(response)
        platform_message = _error_message(payload, response)

        if status < 400 and isinstance(payload, dict):
            logger.info(
                "Platform call succeeded",
                extra={**self._extra(method, path, attempt), "status_code": status},
            )
            return payload

        logger.warning(
            "Platform call failed",
            extra={
                **self._extra(method, path, attempt),
                "status_code": status,
                "platform_message": platform_message,
            },
        )
        if status in TRANSIENT_STATUS_CODES:
            raise PlatformUnavailable(
                f"The platform returned {status} for {method} {path}: {platform_message}",
                status_code=status,
            )
        if status in (401, 403):
            raise PlatformRejected(
                f"The platform rejected the help desk's credentials ({status}): "
                f"{platform_message}. Ask an administrator to check PLATFORM_API_TOKEN.",
                status_code=status,
                platform_message=platform_message,
            )
        if 400 <= status < 500:
            raise PlatformRejected(
                f"The platform rejected the request ({status}): {platform_message}",
                status_code=status,
                platform_message=platform_message,
            )
        raise PlatformError(
            f"The platform returned {status} for {method} {path} with an unexpected body: "
            f"{platform_message}.",
            status_code=status,
            advice="Escalate to engineering if this repeats.",
        )

    def _extra(self, method: str, path: str, attempt: int) -> dict[str, Any]:
        return {**self.log_context, "method": method, "path": path, "attempt": attempt}


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_message(payload: Any, response: requests.Response) -> str:
    """Return the platform's `{"error": ...}` text, else the start of the raw body."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return payload["error"]
    text = response.text.strip()[:200]
    return text or response.reason or "no message"
