"""Targets and the printed table of a benchmark run."""

import statistics

# Latency and throughput targets for the help desk API on the benchmark data set.
SINGLE_CLIENT_P95_MAX_MS = 50.0
CONCURRENT_MIN_REQUESTS_PER_SECOND = 200.0
CONCURRENT_P99_MAX_MS = 250.0


def targets_check(*, results: dict) -> list[dict]:
    """Compare the figures with the targets, one entry per target with its figure and verdict."""
    checks = []
    single = results["single_client"]["endpoints"]
    for endpoint in ("search", "overview", "timeline"):
        figure = single.get(endpoint, {}).get("p95_ms")
        checks.append(
            {
                "target": f"1 client: {endpoint} p95 <= {SINGLE_CLIENT_P95_MAX_MS:.0f} ms",
                "figure": figure,
                "met": figure is not None and figure <= SINGLE_CLIENT_P95_MAX_MS,
            }
        )

    mix = results["concurrent"]["mix"]
    clients = results["concurrent"]["clients"]
    checks.append(
        {
            "target": f"{clients} clients: mix >= {CONCURRENT_MIN_REQUESTS_PER_SECOND:.0f} req/s",
            "figure": mix["requests_per_second"],
            "met": mix["requests_per_second"] >= CONCURRENT_MIN_REQUESTS_PER_SECOND,
        }
    )
    checks.append(
        {
            "target": f"{clients} clients: mix p99 <= {CONCURRENT_P99_MAX_MS:.0f} ms",
            "figure": mix.get("p99_ms"),
            "met": mix.get("p99_ms") is not None and mix["p99_ms"] <= CONCURRENT_P99_MAX_MS,
        }
    )
    return checks


def latency_line(label: str, summary: dict, *, rate: float | None = None) -> str:
    if not summary.get("requests"):
        return f"{label:<34} no requests"
    figures = (
        f"{summary['p50_ms']:>8.1f} {summary['p95_ms']:>8.1f} {summary['p99_ms']:>8.1f} "
        f"{summary['max_ms']:>9.1f} {summary['requests']:>7} {summary['errors']:>6}"
    )
    rate_text = f" {rate:>8.1f}" if rate is not None else ""
    return f"{label:<34} {figures}{rate_text}"


def results_table(*, results: dict) -> str:
    header = (
        f"{'':<34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>9} {'count':>7} "
        f"{'errors':>6} {'req/s':>8}"
    )
    single = results["single_client"]
    concurrent = results["concurrent"]
    lines = ["", header, "One client"]
    for endpoint in ("search", "overview", "timeline"):
        lines.append(latency_line(f"  {endpoint}", single["endpoints"].get(endpoint, {})))
    for endpoint in ("overview", "timeline"):
        for kind, summary in sorted(single[f"{endpoint}_kinds"].items()):
            lines.append(latency_line(f"  {endpoint}, {kind} customers", summary))

    lines.append("One client, search by kind of query")
    for kind, summary in sorted(single["search_kinds"].items(), key=lambda item: item[0]):
        lines.append(latency_line(f"  {kind}", summary))

    lines.append(f"{concurrent['clients']} clients")
    for endpoint, summary in concurrent["endpoints"].items():
        lines.append(latency_line(f"  {endpoint}", summary, rate=summary["requests_per_second"]))
    mix = concurrent["mix"]
    lines.append(latency_line("  mix of the three", mix, rate=mix["requests_per_second"]))

    lines += baseline_lines(results.get("baseline"))
    lines.append("Targets")
    for check in results["targets"]:
        verdict = "met" if check["met"] else "MISSED"
        lines.append(f"  {check['target']:<40} {check['figure']!s:>10}  {verdict}")
    return "\n".join(lines)


def baseline_lines(rows: list[dict] | None) -> list[str]:
    if not rows:
        return []
    lines = [
        "django-helpdesk style icontains search vs customer_search, in process",
        f"  {'kind':<32} {'icontains ms':>12} {'search ms':>10} {'ratio':>7}",
    ]
    for row in rows:
        lines.append(
            f"  {row['kind']:<32} {row['helpdesk_style_ms']:>12.1f} {row['product_ms']:>10.1f} "
            f"{row['ratio']:>7.1f}"
        )
    median_ratio = statistics.median(row["ratio"] for row in rows)
    lines.append(f"  median ratio: {median_ratio:.1f}")
    return lines
