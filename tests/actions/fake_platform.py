"""A local stand-in for the platform control API, with scripted replies per request.

It follows the control API contract: bearer auth, JSON bodies, `{"error": message}` on errors.
Unscripted requests get the contract's happy path for the demo story.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-platform-token"


@dataclass
class Reply:
    status: int
    body: dict | None = None
    # Seconds to wait before responding, to make the client time out.
    delay: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    authorization: str
    body: dict | None


@dataclass
class FakePlatform:
    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    # Scripted replies per "METHOD /path"; the last one repeats once the others are used.
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    workflows: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.scripts[f"{method} {path}"] = list(replies)

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def reply_for(self, method: str, path: str, body: dict | None) -> Reply:
        with self.lock:
            scripted = self.scripts.get(f"{method} {path}")
            if scripted:
                return scripted.pop(0) if len(scripted) > 1 else scripted[0]
        return self.default_reply(method, path, body)

    def default_reply(self, method: str, path: str, body: dict | None) -> Reply:
        parts = path.strip("/").split("/")
        if path == "/healthz":
            return Reply(200, {"status": "ok"})
        if method == "POST" and len(parts) == 6 and parts[-1] == "restart":
            return Reply(
                200,
                {
                    "customer_id": parts[2],
                    "agent": parts[4],
                    "status": "RUNNING",
                    "restarted_at": "2026-01-01T12:11:00Z",
                    "duration_ms": 4800,
                },
            )
        if parts[:2] == ["v1", "workflows"] and parts[2] in self.workflows:
            workflow = self.workflows[parts[2]]
            if method == "POST" and parts[-1] == "retry":
                workflow.update(status="RUNNING", current_step=body["from_step"], detail="")
                return Reply(202, dict(workflow))
            return Reply(200, dict(workflow))
        return Reply(404, {"error": f"Not found: {path}"})


def handler_for(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

        def answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            authorization = self.headers.get("Authorization", "")
            platform.requests.append(RecordedRequest(method, self.path, authorization, body))

            if authorization != f"Bearer {TOKEN}":
                reply = Reply(401, {"error": "Invalid bearer token"})
            else:
                reply = platform.reply_for(method, self.path, body)
            time.sleep(reply.delay)
            self.send_json(reply)

        def send_json(self, reply: Reply) -> None:
            payload = json.dumps(reply.body).encode() if reply.body is not None else b""
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # The client timed out and went away, which is what the test wanted.

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def fake_platform_start() -> tuple[FakePlatform, ThreadingHTTPServer]:
    platform = FakePlatform()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(platform))
    server.daemon_threads = True
    platform.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return platform, server
