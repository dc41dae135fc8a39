"""Request middleware for operator preferences."""

import zoneinfo

from django.conf import settings
from django.utils import timezone

TIME_ZONE_COOKIE = "operator_tz"


class OperatorTimezoneMiddleware:
    """Activate the operator's time zone, read from a cookie the base layout sets from the browser.

    Times are stored in UTC; this only changes how templates render them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(TIME_ZONE_COOKIE) or settings.OPERATOR_DEFAULT_TIME_ZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.OPERATOR_DEFAULT_TIME_ZONE))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
