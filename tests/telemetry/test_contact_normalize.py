"""Email and phone normalization used by customer upserts."""

import pytest

from customers.services import email_normalize, phone_normalize


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("john@example.com", "john@example.com"),
        ("  John@Example.COM ", "john@example.com"),
        ("john+trial@example.com", "john@example.com"),
        ("john+a+b@example.com", "john@example.com"),
        ("not-an-email", "not-an-email"),
        ("", ""),
    ],
)
def test_email_normalize(email, expected):
    assert email_normalize(email=email) == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+1 202-555-0143", "+12025550143"),
        ("(202) 555-0143", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1234567890", "1234567890"),
        ("ext. 12", "12"),
        ("", ""),
    ],
)
def test_phone_normalize(phone, expected):
    assert phone_normalize(phone=phone) == expected


def test_phone_region_setting_used(settings):
    settings.PHONE_DEFAULT_REGION = "GB"

    assert phone_normalize(phone="020 7946 0958") == "+442079460958"
