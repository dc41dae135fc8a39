"""Reading ingest request bodies: length, chunked transfer, compression and JSON parsing.

The OTLP receivers and the JSON ingest endpoints share these, so all of them apply the same size
limits and return the same errors.
"""

import json
import logging
import zlib
from typing import Any

from django.http import HttpRequest

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 64 * 1024
# zlib window settings: gzip framing, and the zlib framing HTTP calls "deflate" (RFC 9110).
WBITS_BY_ENCODING = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
# Deep enough for OTLP/JSON attribute values nested about 30 levels, which is what protobuf's
# default recursion limit of 100 allows in binary requests. Parsers and the code after them
# recurse once or more per level, so a much deeper body would exhaust Python's stack.
MAX_JSON_DEPTH = 128


class RequestBodyError(Exception):
    """A request body rejected whole, with the HTTP status to return."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def request_body_read(*, request: HttpRequest, max_bytes: int) -> bytes:
    """Read a request body, decompressing it when needed, and reject it past max_bytes.

    The limit applies to both the bytes on the wire and the decompressed bytes. Decompression runs
    in bounded steps, so a small gzip bomb never expands past max_bytes in memory.
    """
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", *WBITS_BY_ENCODING):
        raise RequestBodyError(
            415, f"Unsupported content encoding {encoding!r}: send gzip, deflate or identity."
        )

    raw = _stream_read(
        stream=_body_stream(request=request, max_bytes=max_bytes), max_bytes=max_bytes
    )
    if encoding in WBITS_BY_ENCODING:
        return _decompress(data=raw, encoding=encoding, max_bytes=max_bytes)
    return raw


def _body_stream(*, request: HttpRequest, max_bytes: int):
    """Return a stream that ends where the body ends.

    Django reads Content-Length bytes and treats a body without Content-Length as empty. A chunked
    body has no Content-Length, so it is read from the WSGI input instead, but only when the server
    sets wsgi.input_terminated (gunicorn does): only then does that input end with the body.
    """
    content_length = request.META.get("CONTENT_LENGTH") or ""
    if content_length:
        if not content_length.isdigit():
            raise RequestBodyError(400, f"Content-Length {content_length!r} is not a number.")
        if int(content_length) > max_bytes:
            raise RequestBodyError(413, _too_large(max_bytes))
        return request

    if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        # Without Content-Length or Transfer-Encoding, an HTTP/1.1 request has no body.
        return request
    if not request.META.get("wsgi.input_terminated"):
        raise RequestBodyError(
            411,
            "Length required: this server cannot read chunked request bodies, "
            "so send the body with a Content-Length header.",
        )
    return request.META["wsgi.input"]


def _too_large(max_bytes: int) -> str:
    return f"Request body is larger than {max_bytes} bytes: send smaller batches."


def _stream_read(*, stream, max_bytes: int) -> bytes:
    chunks = []
    size = 0
    while chunk := stream.read(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise RequestBodyError(413, _too_large(max_bytes))
        chunks.append(chunk)
    return b"".join(chunks)


def _decompress(*, data: bytes, encoding: str, max_bytes: int) -> bytes:
    decompressor = zlib.decompressobj(wbits=WBITS_BY_ENCODING[encoding])
    chunks = []
    size = 0
    pending = data
    try:
        while pending and not decompressor.eof:
            chunk = decompressor.decompress(pending, max_bytes + 1 - size)
            size += len(chunk)
            if size > max_bytes:
                raise RequestBodyError(
                    413,
                    f"Decompressed request body is larger than {max_bytes} bytes: "
                    "send smaller batches.",
                )
            chunks.append(chunk)
            pending = decompressor.unconsumed_tail
    except zlib.error as error:
        raise RequestBodyError(400, f"Body is not valid {encoding}: {error}.") from error
    if not decompressor.eof:
        raise RequestBodyError(400, f"Body is not valid {encoding}: the stream is truncated.")
    return b"".join(chunks)


def json_parse(*, body: bytes) -> Any:
    """Parse a JSON body, rejecting invalid JSON and nesting deeper than MAX_JSON_DEPTH."""
    too_deep = (
        f"Body is JSON nested more than {MAX_JSON_DEPTH} levels deep: "
        "send flatter JSON, such as attribute values nested fewer levels."
    )
    try:
        document = json.loads(body)
    except RecursionError:
        raise RequestBodyError(400, too_deep) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestBodyError(400, f"Body is not valid JSON: {error}.") from error
    if json_depth_exceeds(document, limit=MAX_JSON_DEPTH):
        raise RequestBodyError(400, too_deep)
    return document


def json_depth_exceeds(document: Any, *, limit: int) -> bool:
    """Tell whether arrays and objects nest deeper than limit, without recursing."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
