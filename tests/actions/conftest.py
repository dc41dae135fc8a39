import pytest
from django.utils import timezone

from actions import outcomes, platform_client
from customers.models import Trial
from tests.actions.fake_platform import TOKEN, fake_platform_start
from tests.factories import AgentAssignmentFactory, AgentFactory, CustomerFactory, TrialFactory

STORY_AGENTS = ["WowMemory", "WowOrchestrator", "WowCache", "WowDomain", "WowAPI"]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Hash the operator fixture's password cheaply; these tests never check passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fake_platform(settings, monkeypatch):
    """Start the fake platform and point the client at it, with short waits for retries."""
    platform, server = fake_platform_start()
    platform.workflows["trial-wf-12345"] = {
        "workflow_id": "trial-wf-12345",
        "customer_id": "cust-123",
        "status": "STUCK",
        "current_step": 7,
        "total_steps": 15,
        "step_name": "retrieve_context",
        "detail": "Database connection timeout after 30s",
    }
    settings.PLATFORM_API_URL = platform.url
    settings.PLATFORM_API_TOKEN = TOKEN
    settings.PLATFORM_API_TIMEOUT_SECONDS = 0.5
    monkeypatch.setattr(platform_client, "RETRY_BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(outcomes, "RETRY_POLL_INTERVAL_SECONDS", 0.02)
    monkeypatch.setattr(outcomes, "RETRY_WATCH_SECONDS", 0.5)
    yield platform
    server.shutdown()
    server.server_close()


@pytest.fixture
def customer(db):
    """The demo story's customer: five agents, trial trial-wf-12345 stuck at step 7 of 15."""
    story_customer = CustomerFactory(
        customer_id="cust-123", name="John Doe", email="john@example.com"
    )
    for name in STORY_AGENTS:
        AgentAssignmentFactory(customer=story_customer, agent=AgentFactory(name=name))
    TrialFactory(
        trial_id="trial-wf-12345",
        customer=story_customer,
        status=Trial.Status.STUCK,
        current_step=7,
        total_steps=15,
        step_name="retrieve_context",
        started_at=timezone.now(),
    )
    return story_customer
