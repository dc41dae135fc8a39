from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from helpdesk.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db

OPENAPI_URL = "/api/platform/helpdesk/customers/search?q=nobody"


def token_for(user) -> str:
    raw_token = ApiToken.generate_raw_token()
    ApiToken.objects.create(user=user, token_hash=hash_token(raw_token), prefix=raw_token[:8])
    return raw_token


def test_create_api_token_prints_token_last(operator, capsys):
    call_command("create_api_token", "operator")

    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line.startswith("hd_")
    assert ApiToken.objects.get(user=operator).token_hash == hash_token(last_line)


def test_create_api_token_unknown_user_fails(db):
    with pytest.raises(CommandError, match="User 'ghost' not found"):
        call_command("create_api_token", "ghost")


def test_bearer_token_authenticates(client, operator):
    raw_token = token_for(operator)

    response = client.get(OPENAPI_URL, headers={"Authorization": f"Bearer {raw_token}"})

    assert response.status_code == 200


def test_unknown_token_answers_401(client, operator):
    response = client.get(OPENAPI_URL, headers={"Authorization": "Bearer hd_wrong"})

    assert response.status_code == 401
    assert response.json()["message"].startswith("Authentication required")


def test_revoked_token_answers_401(client, operator):
    raw_token = token_for(operator)
    ApiToken.objects.update(revoked_at=timezone.now())

    response = client.get(OPENAPI_URL, headers={"Authorization": f"Bearer {raw_token}"})

    assert response.status_code == 401


def test_last_used_written_at_most_every_five_minutes(client, operator):
    raw_token = token_for(operator)
    headers = {"Authorization": f"Bearer {raw_token}"}

    client.get(OPENAPI_URL, headers=headers)
    first_use = ApiToken.objects.get().last_used_at
    client.get(OPENAPI_URL, headers=headers)
    assert ApiToken.objects.get().last_used_at == first_use

    stale = timezone.now() - timedelta(minutes=6)
    ApiToken.objects.update(last_used_at=stale)
    client.get(OPENAPI_URL, headers=headers)
    assert ApiToken.objects.get().last_used_at > stale
