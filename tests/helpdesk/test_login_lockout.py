import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured

from helpdesk.settings import env_positive_int

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"


def log_in(client, *, password: str, address: str = ATTACKER):
    return client.post(
        LOGIN_URL, {"username": "operator", "password": password}, REMOTE_ADDR=address
    )


def test_fifth_failure_locks_the_pair(client, operator):
    for _ in range(4):
        assert log_in(client, password="wrong").status_code == 200

    locked = log_in(client, password="wrong")

    assert locked.status_code == 429
    assert b"Too many failed logins for this username from this address." in locked.content


def test_locked_pair_rejects_right_password(client, operator):
    for _ in range(5):
        log_in(client, password="wrong")

    response = log_in(client, password="operator-pass")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_other_address_still_logs_in(client, operator):
    for _ in range(5):
        log_in(client, password="wrong")

    response = log_in(client, password="operator-pass", address=OFFICE)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_success_resets_the_count(client, operator):
    for _ in range(4):
        log_in(client, password="wrong")

    log_in(client, password="operator-pass")

    assert (
        AccessAttempt.objects.filter(username="operator", failures_since_start__gt=0).count() == 0
    )


def test_tries_while_locked_keep_the_lockout_start(client, operator):
    for _ in range(5):
        log_in(client, password="wrong")
    locked_at = AccessAttempt.objects.get(username="operator").attempt_time

    log_in(client, password="operator-pass")

    assert AccessAttempt.objects.get(username="operator").attempt_time == locked_at


@pytest.mark.parametrize("text", ["0", "-1", "abc", "2.5"])
def test_failure_limit_must_be_positive(monkeypatch, text):
    monkeypatch.setenv("HELPDESK_LOGIN_FAILURE_LIMIT", text)

    with pytest.raises(ImproperlyConfigured) as error:
        env_positive_int("HELPDESK_LOGIN_FAILURE_LIMIT", 5)

    assert str(error.value) == (
        f"HELPDESK_LOGIN_FAILURE_LIMIT={text!r} is not a positive whole number: set it to 1 or "
        "more, or unset it for the default 5."
    )


def test_failure_limit_reads_the_environment(monkeypatch):
    monkeypatch.setenv("HELPDESK_LOGIN_FAILURE_LIMIT", " 3 ")

    assert env_positive_int("HELPDESK_LOGIN_FAILURE_LIMIT", 5) == 3
