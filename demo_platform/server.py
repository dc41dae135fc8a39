"""The control API over HTTP: stdlib ThreadingHTTPServer, JSON in and out, bearer-token auth."""

import hmac
import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from demo_platform.state import PlatformError, PlatformState

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
NAME = r"[A-Za-z0-9._:@-]+"

Handler = Callable[["ControlRequestHandler", dict], tuple[int, dict | None]]


def healthz(request, params):
    return 200, {"status": "ok"}


def customer_agents(request, params):
    return 200, request.state.customer_agents(customer_id=params["customer_id"])


def customer_agent(request, params):
    view = request.state.agent_view(customer_id=params["customer_id"], agent=params["agent"])
    return 200, {"customer_id": params["customer_id"], **view}


def agent_restart(request, params):
    body = request.json_body()
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise PlatformError(422, "reason must be a string.")
    result = request.state.agent_restart(
        customer_id=params["customer_id"], agent=params["agent"], reason=reason
    )
    return 200, {
        "customer_id": result.customer_id,
        "agent": result.agent,
        "status": result.status,
        "restarted_at": result.restarted_at.isoformat().replace("+00:00", "Z"),
        "duration_ms": result.duration_ms,
    }


def workflow_get(request, params):
    return 200, request.state.workflow_view(workflow_id=params["workflow_id"])


def workflow_retry(request, params):
    body = request.json_body()
    view = request.state.workflow_retry(
        workflow_id=params["workflow_id"], from_step=body.get("from_step")
    )
    return 202, view


def fault_list(request, params):
    return 200, request.state.fault_list()


def fault_inject(request, params):
    body = request.json_body()
    fault = request.state.fault_inject(
        kind=body.get("kind"), agent=body.get("agent"), customer_id=body.get("customer_id")
    )
    return 201, fault


def fault_clear(request, params):
    return 200, request.state.fault_clear(fault_id=params["fault_id"])


ROUTES: list[tuple[str, re.Pattern, Handler]] = [
    ("GET", re.compile(r"^/healthz$"), healthz),
    ("GET", re.compile(rf"^/v1/customers/(?P<customer_id>{NAME})/agents$"), customer_agents),
    (
        "GET",
        re.compile(rf"^/v1/customers/(?P<customer_id>{NAME})/agents/(?P<agent>{NAME})$"),
        customer_agent,
    ),
    (
        "POST",
        re.compile(rf"^/v1/customers/(?P<customer_id>{NAME})/agents/(?P<agent>{NAME})/restart$"),
        agent_restart,
    ),
    ("GET", re.compile(rf"^/v1/workflows/(?P<workflow_id>{NAME})$"), workflow_get),
    ("POST", re.compile(rf"^/v1/workflows/(?P<workflow_id>{NAME})/retry$"), workflow_retry),
    ("GET", re.compile(r"^/v1/faults$"), fault_list),
    ("POST", re.compile(r"^/v1/faults$"), fault_inject),
    ("DELETE", re.compile(rf"^/v1/faults/(?P<fault_id>{NAME})$"), fault_clear),
]
UNAUTHENTICATED = {healthz}


class ControlRequestHandler(BaseHTTPRequestHandler):
    server: "ControlServer"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> PlatformState:
        return self.server.state

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        try:
            # Read the body before anything can fail, so a keep-alive connection stays in sync.
            self.raw_body = self.body_read()
            handler, params = self.route(method, path)
            if handler not in UNAUTHENTICATED:
                self.authenticate()
            status, body = handler(self, params)
        except PlatformError as error:
            status, body = error.status, {"error": error.message}
        except Exception:
            logger.exception("Control request failed", extra={"method": method, "path": path})
            status, body = 500, {"error": "Internal error in the demo platform; see its log."}
        self.respond(status, body)

    def route(self, method: str, path: str) -> tuple[Handler, dict]:
        allowed = []
        for route_method, pattern, handler in ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            if route_method == method:
                return handler, match.groupdict()
            allowed.append(route_method)
        if allowed:
            raise PlatformError(
                405, f"Method {method} not allowed on {path}; use {', '.join(allowed)}."
            )
        raise PlatformError(404, f"No endpoint at {path}.")

    def authenticate(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expected = self.server.control_token
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
            raise PlatformError(
                401, "Missing or invalid bearer token: send 'Authorization: Bearer <token>'."
            )

    def body_read(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as error:
            self.close_connection = True
            raise PlatformError(400, "Content-Length is not a number.") from error
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise PlatformError(413, f"Request body larger than {MAX_BODY_BYTES} bytes.")
        return self.rfile.read(length) if length > 0 else b""

    def json_body(self) -> dict:
        raw = self.raw_body
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PlatformError(400, f"Request body is not valid JSON: {error}.") from error
        if not isinstance(body, dict):
            raise PlatformError(400, "Request body must be a JSON object.")
        return body

    def respond(self, status: int, body: dict | None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="demo-platform"')
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        logger.debug("Control request", extra={"request": format % args})


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, *, port: int, state: PlatformState, control_token: str, host: str = "127.0.0.1"
    ):
        super().__init__((host, port), ControlRequestHandler)
        self.state = state
        self.control_token = control_token
