from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from diagnostics.models import Diagnosis
from tests.diagnostics.factories import agents_build, failed_call_build, healthy_build, story_build
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> Database connection timeout after 30s"


def panel_url(customer_id: str = "cust-123") -> str:
    return reverse("diagnosis-panel", kwargs={"customer_id": customer_id})


def test_panel_full_page(operator_client):
    story_build()

    response = operator_client.get(panel_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert "<html" in html
    assert 'id="diagnosis-panel"' in html
    assert "Database connection timeout in WowMemory" in html
    assert "90% confidence" in html
    assert '<span class="confidence-band band-high">High</span>' in html
    assert "Workflow trial-wf-12345 stuck at Step 7/15 (47%) for 12 min" in html
    assert "playbook-trial-stuck-init" in html
    assert "HX-Request" in response["Vary"]


def test_panel_htmx_fragment(operator_client):
    story_build()

    response = operator_client.get(panel_url(), headers={"HX-Request": "true"})
    html = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="diagnosis-panel"')


def test_panel_quick_action_links(operator_client):
    story_build()

    html = operator_client.get(panel_url()).content.decode()

    assert 'href="/customers/cust-123/actions/restart-agent/?agent=WowMemory"' in html
    assert (
        'href="/customers/cust-123/actions/retry-workflow/'
        '?workflow_id=trial-wf-12345&amp;from_step=7"' in html
    )
    assert '<span class="step-status">Done</span>' in html


def test_panel_reuses_recent_diagnosis(operator_client):
    story_build()
    operator_client.get(panel_url())

    operator_client.get(panel_url())

    assert Diagnosis.objects.count() == 1


def test_panel_escapes_hostile_error(operator_client):
    agents = agents_build()
    customer = CustomerFactory(customer_id="cust-evil")
    failed_call_build(
        customer=customer,
        agent=agents["WowMemory"],
        message=HOSTILE,
        started_at=timezone.now() - timedelta(minutes=2),
    )

    html = operator_client.get(panel_url("cust-evil")).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_panel_nothing_found(operator_client):
    healthy_build(customer_id="cust-ok")

    html = operator_client.get(panel_url("cust-ok")).content.decode()

    assert "No problem found in the last 24 hours of telemetry" in html
    assert "Failed or timed-out calls: 0" in html
    assert "Run the diagnosis again after the customer reproduces the problem" in html
    assert "Mark resolved" not in html


def test_panel_low_confidence_warning(operator_client):
    agents = agents_build()
    customer = CustomerFactory(customer_id="cust-low")
    for other in (customer, CustomerFactory()):
        failed_call_build(
            customer=other,
            agent=agents["WowDomain"],
            operation="parse_domain",
            message="Validation failed: field is malformed",
            started_at=timezone.now() - timedelta(minutes=2),
        )

    html = operator_client.get(panel_url("cust-low")).content.decode()

    assert '<span class="confidence-band band-low">Low</span>' in html
    assert "Low confidence" in html
    assert "What was checked, and what to do by hand" in html


def test_panel_unknown_customer_404(operator_client):
    response = operator_client.get(panel_url("cust-missing"))

    assert response.status_code == 404


def test_panel_requires_login(client):
    story_build()

    response = client.get(panel_url())

    assert response.status_code == 302
    assert Diagnosis.objects.count() == 0


def test_mark_resolved_plain_post(operator_client, operator):
    story_build()
    operator_client.get(panel_url())
    diagnosis = Diagnosis.objects.get()
    url = reverse(
        "diagnosis-resolve",
        kwargs={"customer_id": "cust-123", "diagnosis_id": diagnosis.diagnosis_id},
    )

    response = operator_client.post(url, {"resolution": "Restarted <b>WowMemory</b>"})
    diagnosis.refresh_from_db()
    html = operator_client.get(panel_url()).content.decode()

    assert response.status_code == 302
    assert response["Location"] == panel_url()
    assert diagnosis.resolution == "Restarted <b>WowMemory</b>"
    assert diagnosis.resolved_by == operator
    assert "Restarted &lt;b&gt;WowMemory&lt;/b&gt;" in html


def test_mark_resolved_requires_reason(operator_client):
    story_build()
    operator_client.get(panel_url())
    diagnosis = Diagnosis.objects.get()
    url = reverse(
        "diagnosis-resolve",
        kwargs={"customer_id": "cust-123", "diagnosis_id": diagnosis.diagnosis_id},
    )

    response = operator_client.post(url, {"resolution": ""}, headers={"HX-Request": "true"})
    diagnosis.refresh_from_db()

    assert response.status_code == 200
    assert "Resolution is missing: say what fixed the problem." in response.content.decode()
    assert diagnosis.resolved_at is None


def test_diagnose_again_creates_new(operator_client):
    story_build()
    operator_client.get(panel_url())
    url = reverse("diagnosis-run", kwargs={"customer_id": "cust-123"})

    response = operator_client.post(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert Diagnosis.objects.count() == 2
    assert Diagnosis.objects.first().diagnosis_id in response.content.decode()


def test_panel_has_no_inline_style_or_script(operator_client):
    story_build()

    html = operator_client.get(panel_url(), headers={"HX-Request": "true"}).content.decode()

    assert "style=" not in html
    assert "<script" not in html


def test_panel_embedded_opens_confirmation_inline(operator_client):
    story_build()
    restart_url = "/customers/cust-123/actions/restart-agent/?agent=WowMemory"

    html = operator_client.get(
        panel_url(),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/customers/cust-123/"},
    ).content.decode()

    assert f'href="{restart_url}"' in html
    assert f'hx-get="{restart_url}"' in html
    assert html.count('hx-target="#quick-action-region"') == 2
    assert html.count('hx-target="#quick-action-region" hx-swap="innerHTML"') == 2


def test_panel_own_page_plain_links(operator_client):
    story_build()

    html = operator_client.get(panel_url()).content.decode()

    assert 'href="/customers/cust-123/actions/restart-agent/?agent=WowMemory"' in html
    assert "#quick-action-region" not in html


def test_panel_refreshes_after_quick_action(operator_client):
    story_build()

    html = operator_client.get(panel_url(), headers={"HX-Request": "true"}).content.decode()
    opening = html.lstrip().split(">", 1)[0]

    assert 'hx-trigger="quickActionFinished from:body"' in opening
    assert 'hx-get="/customers/cust-123/diagnosis/"' in opening
    assert 'hx-swap="outerHTML"' in opening


def test_panel_unknown_customer_product_page(operator_client):
    response = operator_client.get(panel_url("nope"))
    html = response.content.decode()

    assert response.status_code == 404
    assert "Customer &#x27;nope&#x27; not found." in html
    assert "Back to the dashboard" in html
    assert "No Customer matches the given query." not in html


def test_resolve_unknown_diagnosis_product_page(operator_client):
    story_build()
    url = reverse(
        "diagnosis-resolve", kwargs={"customer_id": "cust-123", "diagnosis_id": "diag-nope"}
    )

    response = operator_client.post(url, {"resolution": "Restarted"})
    html = response.content.decode()

    assert response.status_code == 404
    assert "Diagnosis &#x27;diag-nope&#x27; of customer &#x27;cust-123&#x27; not found." in html
    assert "No Diagnosis matches the given query." not in html
