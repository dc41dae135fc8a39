"""What a platform emits while each kind of fault is under way, in many wordings.

Messages are written the way real libraries and services word them (SQLAlchemy, HikariCP,
psycopg, Envoy, Kubernetes, OpenAI and Google API clients, AWS SDKs, pydantic). They are not
derived from the detective's fault catalog, so some wordings fall outside its patterns on purpose:
the evaluation measures how the detective copes with messages it was not written for.
"""

import random
from dataclasses import dataclass, field

# Agent roles decide which faults an agent can plausibly have and which operations it runs.
ROLES = {
    "memory": ("retrieve_context", "store_memory", "embeddings"),
    "orchestrator": ("plan_step", "dispatch_step", "invoke_agent"),
    "cache": ("cache_lookup", "cache_fill"),
    "domain": ("classify_domain", "chat"),
    "gateway": ("execute_tool", "fetch_document"),
    "llm": ("chat", "generate_content", "text_completion"),
    "connector": ("sync_records", "execute_tool"),
    "retrieval": ("search_index", "embeddings", "rerank"),
    "ingestion": ("parse_document", "extract_tables"),
}

FAULT_ROLES = {
    "db_pool_exhaustion": ("memory", "retrieval", "connector", "cache"),
    "queue_backlog": ("orchestrator", "ingestion"),
    "agent_crash": tuple(ROLES),
    "dependency_timeout": ("gateway", "connector", "retrieval", "llm", "domain"),
    "upstream_rate_limit": ("llm", "gateway", "connector", "domain"),
    "bad_deploy": tuple(ROLES),
    "config_error": tuple(ROLES),
    "invalid_customer_input": ("gateway", "ingestion", "domain", "connector", "orchestrator"),
    "cache_inconsistency": ("cache", "memory", "retrieval"),
    "resource_exhaustion": ("memory", "retrieval", "ingestion", "llm", "domain"),
    "missing_resource": ("memory", "retrieval", "connector", "ingestion", "gateway"),
    "credential_failure": ("connector", "gateway", "llm", "retrieval"),
}


@dataclass
class Failure:
    """One failed call: its error type (may be empty) and message."""

    error_type: str
    message: str
    timeout: bool = False
    # Seconds the failing call took before it gave up.
    duration_s: float = 1.0
    # Where the message travels: the span status message, or an `exception` span event.
    in_event: bool = False


@dataclass
class FaultEffects:
    """Telemetry of one fault: its failing calls, log lines, state changes, metrics and alerts."""

    failures: list[Failure]
    logs: list[tuple[str, str]] = field(default_factory=list)
    # Share of the component's calls that fail while the fault lasts.
    failure_share: float = 0.8
    retries: int = 0
    # Agent status events as (status, version or "", minutes before the fault starts).
    statuses: list[tuple[str, str, float]] = field(default_factory=list)
    status_for_customer_only: bool = False
    metrics: list[tuple[str, float, float, str]] = field(default_factory=list)
    alert: tuple[str, str, str] | None = None
    trial_status: str = "STUCK"
    trial_detail: str = ""
    # False when the calls at the stalled step never reach the component (a backlog).
    calls_reach_component: bool = True
    # True when other customers see the same failures (a platform-side fault).
    shared: bool = True


def pick(rng: random.Random, options):
    return options[rng.randrange(len(options))]


def number(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high)


def db_pool_exhaustion(rng: random.Random, agent: str) -> FaultEffects:
    size = pick(rng, (10, 20, 32, 50, 100))
    wait = pick(rng, (5, 10, 30, 60))
    failures = [
        Failure(
            "sqlalchemy.exc.TimeoutError",
            f"QueuePool limit of size {size} overflow {size // 2} reached, connection timed out, "
            f"timeout {wait}.00",
            timeout=True,
            duration_s=wait,
        ),
        Failure(
            "psycopg_pool.PoolTimeout",
            f"couldn't get a connection after {wait}.00 sec",
            timeout=True,
            duration_s=wait,
        ),
        Failure(
            "SQLTransientConnectionException",
            f"HikariPool-1 - Connection is not available, request timed out after {wait * 1000}ms.",
            duration_s=wait,
        ),
        Failure(
            "OperationalError",
            'connection to server at "10.0.4.12", port 5432 failed: FATAL:  remaining connection '
            "slots are reserved for non-replication superuser connections",
            duration_s=0.2,
        ),
        Failure(
            "TimeoutError",
            f"Database connection timeout after {wait}s",
            timeout=True,
            duration_s=wait,
        ),
        Failure(
            "asyncpg.exceptions.TooManyConnectionsError",
            "sorry, too many clients already",
            duration_s=0.1,
        ),
        Failure(
            "KnexTimeoutError",
            "Knex: Timeout acquiring a connection. The pool is probably full. Are you missing a "
            ".transacting(trx) call?",
            timeout=True,
            duration_s=wait,
        ),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    in_use = size - rng.randint(0, max(size // 20, 1))
    logs = [
        ("WARN", f"connection pool at {in_use}/{size} in use, {number(rng, 4, 60)} waiters"),
        ("ERROR", chosen[0].message),
        (
            "WARN",
            # A log line quoting a query, never executed.
            f"slow query: SELECT ... FROM memories WHERE tenant_id = $1 took "  # noqa: S608
            f"{number(rng, 8, 40)}.{number(rng, 0, 9)}s",
        ),
    ]
    effects = FaultEffects(
        failures=chosen,
        logs=rng.sample(logs, k=rng.randint(1, 3)),
        failure_share=rng.uniform(0.5, 1.0),
        metrics=[("db.connections", float(in_use), float(size), "{connection}")],
        alert=(
            "PostgresConnectionsNearLimit",
            "warning",
            f"{agent} database connections above 90% of max_connections",
        ),
    )
    effects.trial_detail = pick(rng, (chosen[0].message, f"Step timed out after {wait}s", ""))
    return effects


def queue_backlog(rng: random.Random, agent: str) -> FaultEffects:
    pending = number(rng, 800, 25_000)
    topic = pick(rng, ("workflow-steps", "agent.tasks", "steps.v2", "jobs-default"))
    group = pick(rng, ("step-runners", "orchestrator", "workers", "dispatch"))
    logs = [
        ("WARN", f"consumer group '{group}' lag {pending} on topic '{topic}'"),
        (
            "WARN",
            f"{pending} messages ready, 0 unacked on queue {topic}; no consumer acked "
            f"in {number(rng, 5, 30)} min",
        ),
        (
            "ERROR",
            f"Broker connection lost: [Errno 104] Connection reset by peer; "
            f"reconnecting in {number(rng, 2, 30)}s",
        ),
        (
            "WARN",
            f"Celery worker prefetch stalled: {number(rng, 50, 400)} tasks reserved, none started",
        ),
        (
            "WARN",
            f"backpressure: dispatch buffer full ({pending} pending), dropping to slow path",
        ),
    ]
    return FaultEffects(
        failures=[],
        logs=rng.sample(logs, k=rng.randint(1, 3)),
        failure_share=0.0,
        statuses=[("DEGRADED", "", 0.0)] if rng.random() < 0.5 else [],
        metrics=[
            ("queue.pending", float(pending), float(pick(rng, (500, 1000, 5000))), "{message}")
        ],
        alert=("QueueConsumerLagHigh", "warning", f"Consumer lag on {topic} above threshold"),
        trial_status=pick(rng, ("STUCK", "RUNNING")),
        trial_detail=pick(rng, ("Waiting for a worker", "", "Step queued")),
        calls_reach_component=False,
    )


def agent_crash(rng: random.Random, agent: str) -> FaultEffects:
    host = f"10.0.{number(rng, 0, 9)}.{number(rng, 2, 250)}"
    failures = [
        Failure("ConnectionRefusedError", f"[Errno 111] Connection refused ({host}:8080)"),
        Failure("", f"dial tcp {host}:8443: connect: connection refused", duration_s=0.01),
        Failure("HTTPError", "503 Service Unavailable: no healthy upstream", duration_s=0.02),
        Failure(
            "UpstreamError",
            "upstream connect error or disconnect/reset before headers. reset reason: "
            "connection failure",
            duration_s=0.05,
        ),
        Failure(
            "grpc.RpcError",
            "StatusCode.UNAVAILABLE: failed to connect to all addresses",
            duration_s=0.03,
        ),
        Failure(
            "RemoteDisconnected", "Remote end closed connection without response", duration_s=0.5
        ),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    logs = [
        (
            "ERROR",
            f"Back-off restarting failed container {agent.lower()} in pod "
            f"{agent.lower()}-{rng.randrange(16**6):06x}",
        ),
        ("FATAL", "Fatal Python error: Segmentation fault"),
        ("ERROR", f"process exited with status {pick(rng, (1, 137, 139, 134))}"),
        ("ERROR", "panic: runtime error: invalid memory address or nil pointer dereference"),
        (
            "ERROR",
            'Liveness probe failed: Get "http://' + host + ':8080/healthz": '
            "context deadline exceeded",
        ),
    ]
    status = pick(rng, ("DOWN", "DOWN", "RESTARTING"))
    return FaultEffects(
        failures=chosen,
        logs=rng.sample(logs, k=rng.randint(0, 2)),
        failure_share=rng.uniform(0.7, 1.0),
        statuses=[(status, "", -rng.uniform(0, 3))],
        status_for_customer_only=rng.random() < 0.3,
        alert=(
            "KubePodCrashLooping",
            "critical",
            f"Pod {agent.lower()} is restarting {number(rng, 3, 9)} times / 10 minutes",
        ),
        trial_status=pick(rng, ("STUCK", "FAILED")),
        trial_detail=pick(rng, (chosen[0].message, "Agent unavailable", "")),
    )


def dependency_timeout(rng: random.Random, agent: str) -> FaultEffects:
    host = pick(
        rng,
        (
            "api.search-provider.io",
            "kb.internal",
            "crm.example.com",
            "vector-db.svc.cluster.local",
            "docs-api.partner.net",
        ),
    )
    seconds = pick(rng, (5, 10, 15, 30, 60))
    failures = [
        Failure(
            "ReadTimeout",
            f"HTTPSConnectionPool(host='{host}', port=443): Read timed out. "
            f"(read timeout={seconds})",
            timeout=True,
            duration_s=seconds,
        ),
        Failure(
            "httpx.ConnectTimeout",
            f"timed out connecting to {host}",
            timeout=True,
            duration_s=seconds,
        ),
        Failure("DeadlineExceeded", "504 Deadline Exceeded", duration_s=seconds),
        Failure(
            "TimeoutError",
            f"upstream request timeout after {seconds}s",
            timeout=True,
            duration_s=seconds,
        ),
        Failure(
            "GatewayTimeout", f"504 Gateway Time-out from {host}", timeout=True, duration_s=seconds
        ),
        Failure("asyncio.TimeoutError", "", timeout=True, duration_s=seconds),
        Failure(
            "context.DeadlineExceeded",
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            timeout=True,
            duration_s=seconds,
        ),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    logs = [
        ("WARN", f"retrying call to {host} (attempt {number(rng, 2, 5)}/5) after timeout"),
        ("ERROR", f"call to {host} exceeded {seconds}s budget"),
        ("WARN", f"circuit breaker for {host} half-open"),
    ]
    return FaultEffects(
        failures=chosen,
        logs=rng.sample(logs, k=rng.randint(0, 2)),
        failure_share=rng.uniform(0.4, 0.9),
        retries=rng.choice((0, 2, 3, 4)),
        trial_status=pick(rng, ("STUCK", "STUCK", "RUNNING")),
        trial_detail=pick(rng, (f"Step exceeded its {seconds}s deadline", "")),
    )


def upstream_rate_limit(rng: random.Random, agent: str) -> FaultEffects:
    model = pick(rng, ("gpt-4o", "gpt-4o-mini", "claude-sonnet", "gemini-1.5-pro"))
    failures = [
        Failure(
            "openai.RateLimitError",
            f"Error code: 429 - Rate limit reached for {model} in "
            f"organization org-{rng.randrange(16**8):08x} on tokens per min (TPM): Limit "
            f"{number(rng, 30, 800)}000, Used {number(rng, 30, 800)}000",
        ),
        Failure(
            "ResourceExhausted",
            "429 RESOURCE_EXHAUSTED: Quota exceeded for "
            "aiplatform.googleapis.com/generate_content_requests_per_minute",
        ),
        Failure(
            "HTTPError",
            "429 Client Error: Too Many Requests for url: https://api.partner.net/v2/search",
        ),
        Failure("ThrottlingException", "Rate exceeded"),
        Failure(
            "anthropic.RateLimitError",
            "Error code: 429 - {'type': 'error', 'error': {'type': "
            "'rate_limit_error', 'message': 'Number of request tokens has exceeded your "
            "per-minute rate limit'}}",
        ),
        Failure("SlowDown", "Please reduce your request rate."),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    logs = [
        ("WARN", f"Retrying request in {number(rng, 1, 40)}.{number(rng, 0, 9)} seconds"),
        ("WARN", f"x-ratelimit-remaining-tokens: 0, reset in {number(rng, 5, 59)}s"),
    ]
    return FaultEffects(
        failures=chosen,
        logs=rng.sample(logs, k=rng.randint(0, 2)),
        failure_share=rng.uniform(0.3, 0.8),
        retries=rng.choice((2, 3, 5, 6)),
        trial_status=pick(rng, ("STUCK", "RUNNING", "RUNNING")),
    )


def bad_deploy(rng: random.Random, agent: str) -> FaultEffects:
    version = f"{number(rng, 0, 3)}.{number(rng, 1, 20)}.{number(rng, 0, 9)}"
    failures = [
        Failure("AttributeError", "'NoneType' object has no attribute 'get'"),
        Failure(
            "TypeError",
            f"{pick(rng, ('summarize', 'rank', 'plan'))}() got an unexpected "
            "keyword argument 'max_tokens'",
            in_event=True,
        ),
        Failure("KeyError", f"'{pick(rng, ('embedding_model', 'tenant', 'choices'))}'"),
        Failure("ImportError", "cannot import name 'RetryPolicy' from 'agentkit.runtime'"),
        Failure(
            "java.lang.NullPointerException",
            'Cannot invoke "String.length()" because "<local3>" is null',
        ),
        Failure("HTTPError", "500 Internal Server Error"),
        Failure("ValueError", "too many values to unpack (expected 2)"),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    lead = rng.uniform(3, 90)
    return FaultEffects(
        failures=chosen,
        logs=[("ERROR", "Traceback (most recent call last): ... " + chosen[0].message)]
        if rng.random() < 0.6
        else [],
        failure_share=rng.uniform(0.3, 0.9),
        statuses=[("RUNNING", version, lead)],
        trial_status=pick(rng, ("STUCK", "FAILED")),
        trial_detail=pick(rng, (chosen[0].message, "")),
    )


def config_error(rng: random.Random, agent: str) -> FaultEffects:
    variable = pick(
        rng,
        (
            "VECTOR_DB_URL",
            "OPENAI_API_BASE",
            "MEMORY_TTL_SECONDS",
            "CRM_TENANT_ID",
            "MAX_CONTEXT_TOKENS",
        ),
    )
    failures = [
        Failure("ImproperlyConfigured", f"Set the {variable} environment variable"),
        Failure("KeyError", f"'{variable}'"),
        Failure(
            "ValidationError",
            f"1 validation error for Settings\n{variable.lower()}\n  "
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        Failure(
            "ConfigError",
            f"config file /etc/agent/agent.yaml: line {number(rng, 3, 80)}: "
            "mapping values are not allowed here",
        ),
        Failure("ValueError", f"invalid value for {variable}: '{pick(rng, ('', 'none', '-1'))}'"),
        Failure("RuntimeError", f"missing required option --{variable.lower().replace('_', '-')}"),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    statuses = []
    if rng.random() < 0.5:
        statuses.append(
            ("RUNNING", f"{number(rng, 0, 3)}.{number(rng, 1, 20)}.0", rng.uniform(2, 60))
        )
    return FaultEffects(
        failures=chosen,
        logs=[("ERROR", f"startup check failed: {chosen[0].message}")]
        if rng.random() < 0.5
        else [],
        failure_share=rng.uniform(0.6, 1.0),
        statuses=statuses,
        trial_status=pick(rng, ("STUCK", "FAILED")),
    )


def invalid_customer_input(rng: random.Random, agent: str) -> FaultEffects:
    field_name = pick(rng, ("email", "start_date", "items[3].quantity", "document_url", "locale"))
    failures = [
        Failure(
            "ValidationError",
            f"1 validation error for Request\n{field_name}\n  value is not a valid email address",
        ),
        Failure(
            "json.JSONDecodeError",
            f"Expecting ',' delimiter: line 1 column "
            f"{number(rng, 10, 400)} (char {number(rng, 10, 400)})",
        ),
        Failure("HTTPError", f"422 Unprocessable Entity: field '{field_name}' is required"),
        Failure(
            "BadRequest",
            f"400 Bad Request: unsupported file type "
            f"'{pick(rng, ('.heic', '.pages', '.numbers'))}'",
        ),
        Failure(
            "UnicodeDecodeError",
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
        Failure(
            "ValueError",
            f"time data '{number(rng, 13, 31)}/{number(rng, 13, 31)}/2026' "
            "does not match format '%Y-%m-%d'",
        ),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    return FaultEffects(
        failures=chosen,
        logs=[("WARN", f"rejected request from customer: {chosen[0].message}")]
        if rng.random() < 0.4
        else [],
        failure_share=rng.uniform(0.5, 1.0),
        trial_status="FAILED",
        trial_detail=pick(rng, (chosen[0].message, "Step input rejected", "")),
        shared=False,
    )


def cache_inconsistency(rng: random.Random, agent: str) -> FaultEffects:
    key = f"ctx:{rng.randrange(16**8):08x}"
    failures = [
        Failure(
            "AssertionError", "cached embedding dimension 768 does not match index dimension 1536"
        ),
        Failure(
            "StaleReadError",
            f"stale read for {key}: cache version {number(rng, 10, 40)} "
            f"< source version {number(rng, 41, 90)}",
        ),
        Failure("IntegrityError", f"checksum mismatch for cache entry {key}"),
        Failure("ConflictError", f"412 Precondition Failed: ETag mismatch for {key}"),
        Failure(
            "ValueError",
            f"cached plan references step {number(rng, 16, 30)} but the workflow has 15 steps",
        ),
        Failure("KeyError", f"'{key}' evicted between lookup and read"),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    logs = [
        ("WARN", f"cache hit ratio dropped to {number(rng, 5, 40)}% after invalidation storm"),
        ("WARN", f"read-through returned data older than source by {number(rng, 2, 90)} min"),
    ]
    return FaultEffects(
        failures=chosen,
        logs=rng.sample(logs, k=rng.randint(0, 2)),
        failure_share=rng.uniform(0.3, 0.8),
        trial_status=pick(rng, ("STUCK", "FAILED", "RUNNING")),
        trial_detail=pick(rng, (chosen[0].message, "")),
    )


def resource_exhaustion(rng: random.Random, agent: str) -> FaultEffects:
    resource = pick(rng, ("memory", "memory", "disk", "cpu", "files"))
    failures = {
        "memory": [
            Failure("MemoryError", ""),
            Failure("OOMKilled", "Container killed: OOMKilled (exit code 137)"),
            Failure(
                "torch.cuda.OutOfMemoryError",
                f"CUDA out of memory. Tried to allocate {number(rng, 1, 8)}.00 GiB",
            ),
        ],
        "disk": [
            Failure("OSError", "[Errno 28] No space left on device: '/var/lib/agent/tmp'"),
            Failure("IOError", "write /data/index.bin: disk quota exceeded"),
        ],
        "cpu": [
            Failure(
                "TimeoutError",
                f"worker heartbeat missed: event loop blocked for {number(rng, 5, 40)}s",
                timeout=True,
                duration_s=30,
            ),
        ],
        "files": [Failure("OSError", "[Errno 24] Too many open files")],
    }[resource]
    chosen = rng.sample(failures, k=1)
    metric = {
        "memory": "memory.usage",
        "disk": "disk.usage",
        "cpu": "cpu.usage",
        "files": "memory.usage",
    }[resource]
    limit = {"memory.usage": 2048.0, "disk.usage": 50.0, "cpu.usage": 2.0}[metric]
    ratio = rng.uniform(0.86, 1.0) if resource != "files" else rng.uniform(0.3, 0.6)
    logs = [
        ("WARN", f"container {resource} usage at {round(ratio * 100)}% of limit"),
        ("ERROR", "Evicted: The node was low on resource: memory."),
        ("WARN", f"GC pause {number(rng, 2, 20)}.{number(rng, 0, 9)}s"),
    ]
    return FaultEffects(
        failures=chosen,
        logs=rng.sample(logs, k=rng.randint(0, 2)),
        failure_share=rng.uniform(0.3, 0.8),
        statuses=[(pick(rng, ("DEGRADED", "RESTARTING", "RUNNING")), "", -rng.uniform(0, 5))],
        metrics=[(metric, round(limit * ratio, 2), limit, "MiB" if metric != "cpu.usage" else "1")],
        alert=(
            "KubeContainerOOMKilled" if resource == "memory" else "NodeFilesystemAlmostFull",
            "critical",
            f"{agent}: {resource} near its limit",
        ),
        trial_status=pick(rng, ("STUCK", "FAILED", "RUNNING")),
    )


def missing_resource(rng: random.Random, agent: str) -> FaultEffects:
    name = f"{pick(rng, ('kb', 'docs', 'idx', 'tenant'))}-{number(rng, 100, 9999)}"
    failures = [
        Failure("NotFoundError", f"Collection '{name}' not found"),
        Failure("NoSuchBucket", "The specified bucket does not exist"),
        Failure(
            "HTTPError",
            f"404 Client Error: Not Found for url: https://kb.internal/v1/indexes/{name}",
        ),
        Failure("UndefinedTable", f'relation "{name.replace("-", "_")}.documents" does not exist'),
        Failure("FileNotFoundError", f"[Errno 2] No such file or directory: '/models/{name}.bin'"),
        Failure(
            "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found"
        ),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    return FaultEffects(
        failures=chosen,
        logs=[("ERROR", chosen[0].message)] if rng.random() < 0.5 else [],
        failure_share=rng.uniform(0.6, 1.0),
        trial_status=pick(rng, ("FAILED", "STUCK")),
        trial_detail=pick(rng, (chosen[0].message, "")),
        shared=rng.random() < 0.3,
    )


def credential_failure(rng: random.Random, agent: str) -> FaultEffects:
    failures = [
        Failure(
            "AuthenticationError",
            f"Error code: 401 - Incorrect API key provided: sk-...{rng.randrange(16**4):04x}",
        ),
        Failure(
            "HTTPError",
            "403 Client Error: Forbidden for url: https://crm.example.com/api/v3/contacts",
        ),
        Failure("ExpiredToken", "The security token included in the request is expired"),
        Failure(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided",
        ),
        Failure(
            "PermissionDenied", "403 Permission 'aiplatform.endpoints.predict' denied on resource"
        ),
        Failure("InvalidGrant", "invalid_grant: Token has been expired or revoked."),
        Failure(
            "Unauthenticated",
            "Request had invalid authentication credentials. Expected OAuth 2 access token",
        ),
    ]
    chosen = rng.sample(failures, k=rng.randint(1, 2))
    return FaultEffects(
        failures=chosen,
        logs=[("ERROR", f"auth refresh failed: {chosen[0].message}")] if rng.random() < 0.5 else [],
        failure_share=rng.uniform(0.7, 1.0),
        trial_status=pick(rng, ("STUCK", "FAILED")),
        shared=rng.random() < 0.7,
    )


FAULT_EFFECTS = {
    "db_pool_exhaustion": db_pool_exhaustion,
    "queue_backlog": queue_backlog,
    "agent_crash": agent_crash,
    "dependency_timeout": dependency_timeout,
    "upstream_rate_limit": upstream_rate_limit,
    "bad_deploy": bad_deploy,
    "config_error": config_error,
    "invalid_customer_input": invalid_customer_input,
    "cache_inconsistency": cache_inconsistency,
    "resource_exhaustion": resource_exhaustion,
    "missing_resource": missing_resource,
    "credential_failure": credential_failure,
}

# Sporadic errors of healthy systems, unrelated to any fault.
BACKGROUND_FAILURES = (
    Failure("ConnectionResetError", "[Errno 104] Connection reset by peer"),
    Failure("HTTPError", "500 Internal Server Error"),
    Failure("BrokenPipeError", "[Errno 32] Broken pipe"),
    Failure("ssl.SSLError", "EOF occurred in violation of protocol (_ssl.c:2427)"),
    Failure("CancelledError", "request cancelled by client"),
    Failure("ReadTimeout", "Read timed out. (read timeout=20)", timeout=True, duration_s=20),
    Failure("HTTPError", "502 Bad Gateway"),
)
BACKGROUND_LOGS = (
    ("WARN", "slow request: {ms} ms"),
    ("WARN", "retry 1/3 for idempotent call"),
    ("ERROR", "unhandled exception in background task, will retry"),
    ("WARN", "deprecated parameter 'temperature' ignored"),
)
