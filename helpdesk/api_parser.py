"""JSON request bodies of the API: invalid JSON and deep nesting are rejected with 400, not 500."""

import json
import logging
import re
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

logger = logging.getLogger(__name__)

# No endpoint takes a body nested more than a few levels. The limit stays far below Python's
# default recursion limit (1000), so neither json.loads nor pydantic validation can exhaust it.
JSON_MAX_DEPTH = 64

NESTING_MESSAGE = (
    f"The request body nests deeper than {JSON_MAX_DEPTH} levels: "
    f"send JSON with at most {JSON_MAX_DEPTH} levels of nested arrays and objects."
)

JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
JSON_BRACKET = re.compile(rb"[\[\]{}]")


class RequestBodyError(ValueError):
    """A request body that cannot be read as JSON. Its message describes what to send instead."""


class JsonBodyParser(Parser):
    """ninja's JSON parser with messages that name the problem and the fix.

    ninja replaces any error raised here with HttpError(400, "Cannot parse request body") whose
    __cause__ is the error, so the API's HttpError handler reads the message from the cause.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        return json_body_parse(body=request.body)


def json_body_parse(*, body: bytes) -> Any:
    if json_depth_exceeds(body=body, limit=JSON_MAX_DEPTH):
        raise RequestBodyError(NESTING_MESSAGE)

    try:
        return json.loads(body)
    except RecursionError as error:
        raise RequestBodyError(NESTING_MESSAGE) from error
    except ValueError as error:
        raise RequestBodyError(
            f"The request body is not valid JSON: {error}. "
            "Send a JSON object with Content-Type: application/json."
        ) from error


def json_depth_exceeds(*, body: bytes, limit: int) -> bool:
    """Tell whether the arrays and objects in a JSON text nest deeper than limit.

    Brackets inside strings do not count. On text that is not valid JSON the result is only
    approximate, which is enough because json.loads then rejects the text anyway.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False

    depth = 0
    for bracket in JSON_BRACKET.finditer(JSON_STRING.sub(b'""', body)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False
