"""Log template mining with drain3: each log body is matched to a LogTemplate while it is stored.

The LogTemplate table is the miner's state. Each process keeps a drain3 TemplateMiner built from
the table and checks it against LogTemplateMinerState before every batch:

- the same token means nothing changed since this process last mined or loaded;
- a higher revision of the same generation, after a committed load, means another process
  added or changed templates, and only those rows are loaded;
- anything else (a new generation, a rolled-back batch) rebuilds the miner from the table.

Mining holds a row lock on the state row, so processes mine one batch at a time and cluster ids
never collide. Each message costs one drain3 tree search over a bounded tree (at most
MAX_TEMPLATES clusters, bodies cut to MAX_MINED_CHARS), so a batch takes time linear in its size.
"""

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from drain3 import TemplateMiner
from drain3.drain import LogCluster
from drain3.masking import LogMasker, MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

from telemetry.models import LogRecord, LogTemplate, LogTemplateMinerState

logger = logging.getLogger(__name__)

STATE_PK = 1
# Clusters the miner keeps in memory. Past this, drain3 drops the least recently used ones.
MAX_TEMPLATES = 2000
# Only the start of a long body is mined; templates of longer texts are rarely shared anyway.
MAX_MINED_CHARS = 2048
# drain3's defaults (similarity 0.4, tree depth 4), which its authors tuned on public log sets.
SIMILARITY_THRESHOLD = 0.4
TREE_DEPTH = 4
MAX_CHILDREN = 100

# Order matters: each pattern receives the text the earlier ones left, so specific shapes go first.
MASKS = (
    ("UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("EMAIL", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    ("IP", r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"),
    (
        "IP",
        r"(?<![\w:])(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}"
        r"|(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?::(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?)"
        r"(?![\w:])",
    ),
    # 0x-prefixed values, and runs of six or more hex digits with at least one digit and letter.
    (
        "HEX",
        r"(?<![\w-])(?:0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,})"
        r"(?![\w-])",
    ),
    # Identifiers such as cust-123, ctx-456, seg-17 or trial-wf-12345: words joined by - or _
    # with at least one digit.
    ("ID", r"(?<![\w-])(?=[\w-]*\d)[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+(?![\w-])"),
    # Numbers, with an optional sign, decimals and a unit such as 30s, 50ms or 95%.
    (
        "NUM",
        r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:ns|us|ms|s|m|h|d|%|[KMGT]i?B|B)?(?![\w]|\.\d)",
    ),
)


def template_miner_config() -> TemplateMinerConfig:
    config = TemplateMinerConfig()
    config.drain_sim_th = SIMILARITY_THRESHOLD
    config.drain_depth = TREE_DEPTH
    config.drain_max_children = MAX_CHILDREN
    config.drain_max_clusters = MAX_TEMPLATES
    config.masking_instructions = [MaskingInstruction(pattern, name) for name, pattern in MASKS]
    return config


def template_miner_build() -> TemplateMiner:
    """Build an empty miner with the product's masks; no drain3 persistence handler is used."""
    return TemplateMiner(config=template_miner_config())


_masker = LogMasker(template_miner_config().masking_instructions, "<", ">")


def log_body_mask(*, body: str) -> str:
    """Return the body with ids, numbers, hex, addresses, UUIDs and emails masked, as mined."""
    return _masker.mask(body)


@dataclass
class CachedMiner:
    """This process's miner and the state row version it matches."""

    miner: TemplateMiner | None = None
    generation: uuid.UUID | None = None
    revision: int = 0
    token: uuid.UUID | None = None
    # False until the transaction that last changed the templates commits.
    committed: bool = False
    # Reentrant, because on_commit runs its callback at once when no transaction is open.
    lock: threading.RLock = field(default_factory=threading.RLock)


_cache = CachedMiner()


def log_template_miner_reset() -> None:
    """Forget this process's miner, as a restart would; the next batch rebuilds it."""
    with _cache.lock:
        _cache.miner = None
        _cache.token = None
        _cache.committed = False


@dataclass
class TemplateUse:
    """How often a batch used one template, and the template text after the batch."""

    template: str
    count: int
    first_seen: datetime
    last_seen: datetime


def log_templates_assign(*, records: list[LogRecord]) -> None:
    """Mine the body of each unsaved record and set its template, creating templates as needed.

    Runs inside the caller's transaction, which holds the state row lock until it commits.
    """
    texts = [(record, record.body.strip()[:MAX_MINED_CHARS]) for record in records]
    texts = [(record, text) for record, text in texts if text]
    if not texts:
        return

    state = _state_lock()
    with _cache.lock:
        miner = _miner_sync(state=state)
        # Until the batch is saved, the cached miner no longer matches any stored state.
        _cache.token = None
        cluster_ids, uses, changed = _mine(miner=miner, texts=texts)
        templates = _templates_save(state=state, uses=uses, changed=changed)
        _cache_mark(state=state, changed=bool(changed))

    for record, cluster_id in zip((record for record, _text in texts), cluster_ids, strict=True):
        record.template = templates[cluster_id]


def _state_lock() -> LogTemplateMinerState:
    LogTemplateMinerState.objects.bulk_create(
        [LogTemplateMinerState(pk=STATE_PK)], ignore_conflicts=True
    )
    return LogTemplateMinerState.objects.select_for_update().get(pk=STATE_PK)


def _miner_sync(*, state: LogTemplateMinerState) -> TemplateMiner:
    """Return a miner matching the table; the caller holds the state row lock and the cache lock."""
    cache = _cache
    same_generation = cache.miner is not None and cache.generation == state.generation
    if same_generation and cache.token == state.token:
        return cache.miner

    if same_generation and cache.committed and cache.revision <= state.revision:
        rows = LogTemplate.objects.filter(revision__gt=cache.revision).order_by("last_seen")
        loaded = _templates_load(miner=cache.miner, rows=list(rows))
        logger.info("Log templates refreshed", extra={"templates": loaded})
    else:
        cache.miner = template_miner_build()
        newest = LogTemplate.objects.order_by("-last_seen")[:MAX_TEMPLATES]
        loaded = _templates_load(miner=cache.miner, rows=list(reversed(newest)))
        highest = LogTemplate.objects.aggregate(highest=Max("cluster_id"))["highest"] or 0
        drain = cache.miner.drain
        drain.clusters_counter = max(drain.clusters_counter, highest)
        logger.info("Log template miner rebuilt", extra={"templates": loaded})

    cache.generation = state.generation
    cache.revision = state.revision
    cache.token = state.token
    cache.committed = True
    return cache.miner


def _templates_load(*, miner: TemplateMiner, rows: list[LogTemplate]) -> int:
    """Add or update clusters from rows, least recently seen first, as drain3's LRU expects."""
    drain = miner.drain
    for row in rows:
        tokens = drain.get_content_as_tokens(row.template)
        cluster = drain.id_to_cluster.get(row.cluster_id)
        if cluster is not None:
            # drain3 also leaves a cluster where it is in the tree when its template changes.
            cluster.log_template_tokens = tuple(tokens)
            continue
        cluster = LogCluster(tokens, row.cluster_id)
        cluster.size = row.count
        drain.id_to_cluster[row.cluster_id] = cluster
        drain.add_seq_to_prefix_tree(drain.root_node, cluster)
        drain.clusters_counter = max(drain.clusters_counter, row.cluster_id)
    return len(rows)


def _mine(
    *, miner: TemplateMiner, texts: list[tuple[LogRecord, str]]
) -> tuple[list[int], dict[int, TemplateUse], set[int]]:
    cluster_ids = []
    uses: dict[int, TemplateUse] = {}
    changed: set[int] = set()
    for record, text in texts:
        result = miner.add_log_message(text)
        cluster_id = result["cluster_id"]
        cluster_ids.append(cluster_id)
        if result["change_type"] != "none":
            changed.add(cluster_id)

        use = uses.get(cluster_id)
        if use is None:
            uses[cluster_id] = TemplateUse(
                result["template_mined"], 1, record.timestamp, record.timestamp
            )
        else:
            # A cluster evicted later in the batch keeps the text it had here.
            use.template = result["template_mined"]
            use.count += 1
            use.first_seen = min(use.first_seen, record.timestamp)
            use.last_seen = max(use.last_seen, record.timestamp)
    return cluster_ids, uses, changed


def _templates_save(
    *,
    state: LogTemplateMinerState,
    uses: dict[int, TemplateUse],
    changed: set[int],
) -> dict[int, LogTemplate]:
    """Create new templates, update changed ones and counts; return templates by cluster id."""
    if changed:
        state.revision += 1
        state.token = uuid.uuid4()
        state.save(update_fields=["revision", "token", "updated_at"])

    existing = {
        template.cluster_id: template
        for template in LogTemplate.objects.filter(cluster_id__in=uses.keys())
    }
    created = [
        _template_build(cluster_id=cluster_id, use=use, revision=state.revision)
        for cluster_id, use in uses.items()
        if cluster_id not in existing
    ]
    LogTemplate.objects.bulk_create(created)

    for cluster_id, template in existing.items():
        use = uses[cluster_id]
        template.count += use.count
        template.first_seen = min(template.first_seen, use.first_seen)
        template.last_seen = max(template.last_seen, use.last_seen)
        if cluster_id in changed:
            template.template = use.template
            template.revision = state.revision
    LogTemplate.objects.bulk_update(
        existing.values(), ["count", "first_seen", "last_seen", "template", "revision"]
    )
    if created:
        logger.info("Log templates created", extra={"cluster_ids": [t.cluster_id for t in created]})
    return {**existing, **{template.cluster_id: template for template in created}}


def _template_build(*, cluster_id: int, use: TemplateUse, revision: int) -> LogTemplate:
    return LogTemplate(
        cluster_id=cluster_id,
        template=use.template,
        revision=revision,
        first_seen=use.first_seen,
        last_seen=use.last_seen,
        count=use.count,
    )


def _cache_mark(*, state: LogTemplateMinerState, changed: bool) -> None:
    """Record the state the miner now matches, trusted for incremental loads once committed."""
    _cache.token = state.token
    if not changed:
        return

    _cache.revision = state.revision
    _cache.committed = False
    token = state.token
    transaction.on_commit(lambda: _cache_confirm(token=token))


def _cache_confirm(*, token: uuid.UUID) -> None:
    with _cache.lock:
        if _cache.token == token:
            _cache.committed = True
