"""The requests a benchmark sends, drawn from the customers in the database.

Search queries come in kinds an operator types: ids, emails and phones as the customer wrote them
or not, names with typos, company prefixes, names in non-Latin scripts, and queries that match
nothing. Overview and timeline requests go to typical customers and to the heaviest ones.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Sum

from customers.models import AgentAssignment, Customer, Trial

API = "/api/platform/helpdesk/customers"
SAMPLE_SIZE = 3000
VALUES_PER_KIND = 4
TIMELINE_LIMIT = 100
HEAVY_CUSTOMERS = 3
TYPICAL_CUSTOMERS = 30


@dataclass(frozen=True)
class Case:
    endpoint: str
    kind: str
    path: str
    params: dict[str, str | int] = field(default_factory=dict)


def search_case(*, kind: str, query: str) -> Case:
    return Case(endpoint="search", kind=kind, path=f"{API}/search", params={"q": query})


def sample_customers(*, rng: random.Random) -> list[Customer]:
    """Return up to SAMPLE_SIZE random customers, looked up by random primary keys."""
    highest = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pks = rng.sample(range(1, highest + 1), min(SAMPLE_SIZE, highest))
    customers = list(Customer.objects.filter(pk__in=pks).order_by("pk"))
    rng.shuffle(customers)
    return customers


def heavy_customer_ids() -> list[tuple[str, int]]:
    """Return the customers with the most interactions, by their assignment counters."""
    rows = (
        AgentAssignment.objects.values("customer")
        .annotate(total=Sum("interaction_count"))
        .order_by("-total")[:HEAVY_CUSTOMERS]
    )
    totals = {row["customer"]: row["total"] for row in rows}
    customers = Customer.objects.filter(pk__in=totals).values_list("pk", "customer_id")
    return sorted(((customer_id, totals[pk]) for pk, customer_id in customers),
                  key=lambda item: -item[1])  # fmt: skip


def alternate_case(text: str) -> str:
    return "".join(char.upper() if position % 2 else char.lower()
                   for position, char in enumerate(text))  # fmt: skip


def typo_make(word: str, *, rng: random.Random) -> str:
    """Swap two neighbouring letters inside the word, the commonest typing mistake."""
    if len(word) < 4:
        return word + word[-1]
    position = rng.randrange(1, len(word) - 2)
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


def us_phone_format(e164: str) -> str:
    national = e164.removeprefix("+1")
    return f"({national[:3]}) {national[3:6]}-{national[6:]}"


def plain_email(customer: Customer) -> bool:
    return bool(customer.email) and "+" not in customer.email


def latin_name(customer: Customer) -> bool:
    return customer.name.isascii() and " " in customer.name


def non_latin_name(customer: Customer) -> bool:
    return bool(customer.name) and not customer.name.isascii()


def name_with_typo(customer: Customer, rng: random.Random) -> str:
    first, *rest = customer.name.split()
    return " ".join([first, *rest[:-1], typo_make(rest[-1], rng=rng)])


# kind, which customers qualify, and the query typed for one of them.
CustomerQuery = tuple[str, Callable[[Customer], bool], Callable[[Customer, random.Random], str]]
CUSTOMER_QUERIES: tuple[CustomerQuery, ...] = (
    ("customer id", lambda c: True, lambda c, rng: c.customer_id),
    ("customer id, upper case", lambda c: True, lambda c, rng: c.customer_id.upper()),
    ("customer id prefix", lambda c: True, lambda c, rng: c.customer_id[:-2]),
    ("email", plain_email, lambda c, rng: c.email),
    ("email, odd case", plain_email, lambda c, rng: alternate_case(c.email)),
    ("email, plus tag added", plain_email,
     lambda c, rng: c.email.replace("@", "+support@", 1)),
    ("email without its plus tag", lambda c: "+" in c.email, lambda c, rng: c.email_normalized),
    ("email local part", plain_email, lambda c, rng: c.email.split("@")[0]),
    ("phone, E.164", lambda c: c.phone_normalized.startswith("+"),
     lambda c, rng: c.phone_normalized),
    ("phone, formatted", lambda c: c.phone_normalized.startswith("+1"),
     lambda c, rng: us_phone_format(c.phone_normalized)),
    ("phone, digits only", lambda c: c.phone_normalized.startswith("+"),
     lambda c, rng: c.phone_normalized.removeprefix("+")),
    ("name", latin_name, lambda c, rng: c.name),
    ("name with a typo", latin_name, name_with_typo),
    ("first name, lower case", latin_name, lambda c, rng: c.name.split()[0].lower()),
    ("last name only", latin_name, lambda c, rng: c.name.split()[-1]),
    ("company", lambda c: bool(c.company), lambda c, rng: c.company),
    ("company prefix", lambda c: c.company.isascii() and len(c.company) > 5,
     lambda c, rng: c.company[:4]),
    ("company with a typo", lambda c: c.company.isascii() and len(c.company) > 5,
     lambda c, rng: typo_make(c.company, rng=rng)),
    ("non-Latin name", non_latin_name, lambda c, rng: c.name),
    ("non-Latin name, one word", lambda c: non_latin_name(c) and " " in c.name,
     lambda c, rng: c.name.split()[-1]),
)  # fmt: skip

FIXED_QUERIES = (
    ("no match, words", ("Zyxwvut Qqqxx", "Blorptastic Industries", "Qwfpgj Zxcvb", "Xoqu Vimz")),
    ("no match, id", ("cust-9999999", "trial-wf-0000001", "cust-abcdef", "trial-zz")),
    ("short query", ("jo", "li", "an", "wa")),
    ("demo customer email", ("john@example.com", "JOHN@EXAMPLE.COM", "john+vip@example.com",
                             "John@Example.com")),
)  # fmt: skip


def search_cases(*, customers: list[Customer], rng: random.Random) -> list[Case]:
    cases = []
    for kind, qualifies, query_make in CUSTOMER_QUERIES:
        chosen = [customer for customer in customers if qualifies(customer)][:VALUES_PER_KIND]
        cases += [search_case(kind=kind, query=query_make(c, rng)) for c in chosen]

    trials = list(Trial.objects.filter(customer__in=customers[: VALUES_PER_KIND * 3]))
    chosen_trials = rng.sample(trials, min(VALUES_PER_KIND, len(trials)))
    cases += [search_case(kind="trial id", query=trial.trial_id) for trial in chosen_trials]
    cases += [search_case(kind="trial id, upper case", query=trial.trial_id.upper())
              for trial in chosen_trials]  # fmt: skip
    cases += [search_case(kind="trial id prefix", query=trial.trial_id[:-2])
              for trial in chosen_trials]  # fmt: skip

    for kind, queries in FIXED_QUERIES:
        cases += [search_case(kind=kind, query=query) for query in queries]
    cases += [search_case(kind="heavy customer id", query=customer_id)
              for customer_id, _ in heavy_customer_ids()]  # fmt: skip
    return cases


def customer_cases(*, customers: list[Customer], heavy: list[tuple[str, int]]) -> list[Case]:
    """Build overview and timeline requests for typical customers and the heaviest ones."""
    typical = [c.customer_id for c in customers if c.last_activity_at][:TYPICAL_CUSTOMERS]
    targets = [("typical", customer_id) for customer_id in typical]
    targets += [("heavy", customer_id) for customer_id, _ in heavy]

    cases = []
    for kind, customer_id in targets:
        cases.append(Case(endpoint="overview", kind=kind, path=f"{API}/{customer_id}"))
        cases.append(
            Case(
                endpoint="timeline",
                kind=kind,
                path=f"{API}/{customer_id}/timeline",
                params={"limit": TIMELINE_LIMIT},
            )
        )
    return cases
