"""Customer profiles: names, companies, emails and telephone numbers as customers write them."""

import itertools
import random
import unicodedata
from dataclasses import dataclass

from bench.pools import (
    COMPANY_NAMES,
    FIRST_NAMES,
    FREE_MAIL_DOMAINS,
    LAST_NAMES,
    NATIVE_NAMES,
    PHONE_PLANS,
    PLUS_TAGS,
)

NATIVE_NAME_SHARE = 0.07
COMPANY_SHARE = 0.45
PLUS_TAG_SHARE = 0.08
ODD_CASE_SHARE = 0.05
MISSING_EMAIL_SHARE = 0.03
MISSING_PHONE_SHARE = 0.15
# Letters that Unicode decomposition does not reduce to ASCII.
ASCII_REPLACEMENTS = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "ı": "i", "æ": "ae", "đ": "d"}  # noqa: RUF001
)


@dataclass(frozen=True)
class Profile:
    name: str
    email: str
    phone: str
    company: str


def zipf_cum_weights(*, size: int, exponent: float) -> list[float]:
    """Return cumulative weights 1/rank**exponent, for random.choices over a ranked pool."""
    return list(itertools.accumulate(1 / (rank**exponent) for rank in range(1, size + 1)))


def ascii_fold(text: str) -> str:
    """Reduce a Latin-script name to lower-case ASCII letters, as people do in email addresses."""
    decomposed = unicodedata.normalize("NFKD", text.translate(ASCII_REPLACEMENTS))
    letters = (char for char in decomposed if char.isascii() and (char.isalnum() or char == " "))
    return "".join(letters).lower().replace(" ", "")


def company_domain(*, company: str, rank: int) -> str:
    slug = ascii_fold(company.replace("&", "and"))
    slug = slug.removesuffix("gmbh").removesuffix("inc").removesuffix("ltd").removesuffix("corp")
    return f"{slug or f'company{rank}'}.example.com"


class ProfileMaker:
    """Draws customer profiles with a fixed seed, so a scale always yields the same customers."""

    def __init__(self, *, rng: random.Random) -> None:
        self.rng = rng
        self.first_weights = zipf_cum_weights(size=len(FIRST_NAMES), exponent=1.0)
        self.last_weights = zipf_cum_weights(size=len(LAST_NAMES), exponent=1.0)
        self.company_weights = zipf_cum_weights(size=len(COMPANY_NAMES), exponent=1.1)
        self.phone_weights = zipf_cum_weights(size=len(PHONE_PLANS), exponent=0.8)
        self.folded_first = [ascii_fold(name) for name in FIRST_NAMES]
        self.folded_last = [ascii_fold(name) for name in LAST_NAMES]
        self.company_domains = [
            company_domain(company=company, rank=rank) for rank, company in enumerate(COMPANY_NAMES)
        ]

    def profiles_make(self, *, numbers: range) -> list[Profile]:
        """Draw a profile for each number; numbers make most email addresses unique, as in life."""
        rng = self.rng
        size = len(numbers)
        firsts = rng.choices(range(len(FIRST_NAMES)), cum_weights=self.first_weights, k=size)
        lasts = rng.choices(range(len(LAST_NAMES)), cum_weights=self.last_weights, k=size)
        companies = rng.choices(range(len(COMPANY_NAMES)), cum_weights=self.company_weights, k=size)
        phone_plans = rng.choices(PHONE_PLANS, cum_weights=self.phone_weights, k=size)

        profiles = []
        for position, number in enumerate(numbers):
            name, local = self._name_make(first=firsts[position], last=lasts[position])
            company, domain = self._company_make(rank=companies[position])
            profiles.append(
                Profile(
                    name=name,
                    email=self._email_make(local=local, number=number, domain=domain),
                    phone=self._phone_make(plan=phone_plans[position]),
                    company=company,
                )
            )
        return profiles

    def _name_make(self, *, first: int, last: int) -> tuple[str, str]:
        rng = self.rng
        if rng.random() < NATIVE_NAME_SHARE:
            return NATIVE_NAMES[int(rng.random() * len(NATIVE_NAMES))]

        name = f"{FIRST_NAMES[first]} {LAST_NAMES[last]}"
        if rng.random() < 0.04:
            name = f"{FIRST_NAMES[first]} {chr(65 + int(rng.random() * 26))}. {LAST_NAMES[last]}"
        local = self._email_local_make(first=self.folded_first[first], last=self.folded_last[last])
        return name, local

    def _email_local_make(self, *, first: str, last: str) -> str:
        pattern = self.rng.random()
        if pattern < 0.5:
            return f"{first}.{last}"
        if pattern < 0.7:
            return f"{first[0]}{last}"
        if pattern < 0.85:
            return f"{first}{last}"
        return f"{first}_{last}"

    def _company_make(self, *, rank: int) -> tuple[str, str]:
        rng = self.rng
        if rng.random() >= COMPANY_SHARE:
            return "", FREE_MAIL_DOMAINS[int(rng.random() ** 2 * len(FREE_MAIL_DOMAINS))]
        if rng.random() < 0.6:
            return COMPANY_NAMES[rank], self.company_domains[rank]
        return COMPANY_NAMES[rank], FREE_MAIL_DOMAINS[int(rng.random() * len(FREE_MAIL_DOMAINS))]

    def _email_make(self, *, local: str, number: int, domain: str) -> str:
        rng = self.rng
        if rng.random() < MISSING_EMAIL_SHARE:
            return ""

        if rng.random() < 0.85:
            local = f"{local}{number}"
        if rng.random() < PLUS_TAG_SHARE:
            local = f"{local}+{PLUS_TAGS[int(rng.random() * len(PLUS_TAGS))]}"
        email = f"{local}@{domain}"
        if rng.random() < ODD_CASE_SHARE:
            email = email.title()
        return email

    def _phone_make(self, *, plan: tuple) -> str:
        rng = self.rng
        if rng.random() < MISSING_PHONE_SHARE:
            return ""

        _, pattern, written_forms = plan
        national = "".join(str(int(rng.random() * 10)) if char == "#" else char for char in pattern)
        written = written_forms[int(rng.random() * len(written_forms))]
        return phone_write(written=written, national=national)


def phone_write(*, written: str, national: str) -> str:
    """Fill a written form: %a %b %c are the three North American groups, %n the grouped number."""
    head = len(national) - 8
    grouped = f"{national[:head]} {national[head : head + 4]} {national[head + 4 :]}"
    return (
        written.replace("%a", national[:3])
        .replace("%b", national[3:6])
        .replace("%c", national[6:])
        .replace("%n", grouped)
    )
