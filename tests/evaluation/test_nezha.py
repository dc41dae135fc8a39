import datetime as dt
import json

from evaluation import nezha

TRACE_ROWS = [
    {
        "TraceID": "b0103bb0161ad7fa352fe1828eeb643a",
        "SpanID": "520b067330e3ede5",
        "ParentID": "root",
        "PodName": "ts-gateway-service-6f6cfc45b-h5m2n",
        "OperationName": "/*",
        "StartTimeUnixNano": "1674981768697000000",
        "EndTimeUnixNano": "1674981769015316530",
        "Duration": "318316",
    },
    {
        "TraceID": "b0103bb0161ad7fa352fe1828eeb643a",
        "SpanID": "a4424f20bffee416",
        "ParentID": "520b067330e3ede5",
        "PodName": "ts-basic-service-5dc8d4f9fd-46997",
        "OperationName": "BasicController.queryForTravel",
        "StartTimeUnixNano": "1674981768697763387",
        "EndTimeUnixNano": "1674981769015072039",
        "Duration": "317308",
    },
]
LOG_LINE = (
    "16:43:17.120 ERROR  c.s.ContactsServiceImpl#37 TraceID: dc7db5cbec8d511cb7e08fd7c7b47c00 "
    "SpanID: b6ce9b3cd8b064a8 [findContactsById][contactsRepository.findById]\n"
)
LOG_ROW = {
    "Timestamp": "2023-01-29T08:43:17.12Z",
    "TimeUnixNano": "1674981797120000000",
    "Node": "33.33.33.116",
    "PodName": "ts-contacts-service-866bd68c97-xcqfx",
    "Container": "server",
    "TraceID": "dc7db5cbec8d511cb7e08fd7c7b47c00",
    "SpanID": "b6ce9b3cd8b064a8",
    "Log": json.dumps({"log": LOG_LINE, "stream": "stdout"}),
}


def resource_value(resource, key):
    return next(a.value.string_value for a in resource.attributes if a.key == key)


def test_service_name_drops_hash_segments():
    assert nezha.service_of_pod("ts-basic-service-5dc8d4f9fd-46997") == "ts-basic-service"
    assert nezha.service_of_pod("ts-ui-dashboard-5477b965f-2chkr") == "ts-ui-dashboard"
    assert nezha.service_of_pod("ts-travel2-service-5c66d57d58-6mp2b") == "ts-travel2-service"
    assert nezha.service_of_pod("front_service") == "front_service"


def test_inject_time_read_as_utc():
    entry = {"inject_time": "2023-01-29 08:52:06", "inject_timestamp": "1674953526"}

    moment = nezha.inject_time_parse(entry["inject_time"])

    assert moment == dt.datetime(2023, 1, 29, 8, 52, 6, tzinfo=dt.UTC)
    assert moment.timestamp() - int(entry["inject_timestamp"]) == 28_800


def test_window_covers_three_minute_files():
    window = nezha.FaultWindow(
        inject_at=dt.datetime(2023, 1, 29, 8, 58, 16, tzinfo=dt.UTC),
        pod="ts-contacts-service-866bd68c97-xcqfx",
        fault_type="return",
    )

    assert window.file_stems == ["08_58", "08_59", "09_00"]
    assert window.service == "ts-contacts-service"
    assert window.customer_id == "tt-20230129-085816"
    assert window.end == dt.datetime(2023, 1, 29, 9, 1, tzinfo=dt.UTC)


def test_trace_rows_become_spans():
    request = nezha.traces_convert(rows=TRACE_ROWS, customer_id="tt-window")

    gateway, basic = request.resource_spans
    root = gateway.scope_spans[0].spans[0]
    child = basic.scope_spans[0].spans[0]
    assert resource_value(gateway.resource, "service.name") == "ts-gateway-service"
    assert resource_value(basic.resource, "k8s.pod.name") == "ts-basic-service-5dc8d4f9fd-46997"
    assert resource_value(basic.resource, "customer.id") == "tt-window"
    assert root.trace_id.hex() == "b0103bb0161ad7fa352fe1828eeb643a"
    assert root.parent_span_id == b""
    assert child.parent_span_id.hex() == "520b067330e3ede5"
    assert child.name == "BasicController.queryForTravel"
    assert child.start_time_unix_nano == 1674981768697763387
    assert child.end_time_unix_nano == 1674981769015072039


def test_log_row_becomes_record():
    request = nezha.logs_convert(rows=[LOG_ROW], customer_id="tt-window")

    resource_logs = request.resource_logs[0]
    record = resource_logs.scope_logs[0].log_records[0]
    assert resource_value(resource_logs.resource, "service.name") == "ts-contacts-service"
    assert resource_value(resource_logs.resource, "k8s.node.name") == "33.33.33.116"
    assert record.severity_text == "ERROR"
    assert record.severity_number == 17
    assert record.body.string_value == LOG_LINE.rstrip("\n")
    assert record.time_unix_nano == 1674981797120000000
    assert record.trace_id.hex() == "dc7db5cbec8d511cb7e08fd7c7b47c00"
    assert record.span_id.hex() == "b6ce9b3cd8b064a8"
    assert [(a.key, a.value.string_value or a.value.int_value) for a in record.attributes] == [
        ("code.namespace", "c.s.ContactsServiceImpl"),
        ("code.lineno", 37),
    ]


def test_log_without_logback_prefix_has_no_code_location():
    assert nezha.code_attributes("Started ContactsApplication in 12.3 seconds") == []


def test_baseline_period_spans_the_files(tmp_path):
    path = tmp_path / "08_50_trace.csv"
    columns = list(TRACE_ROWS[0])
    lines = [",".join(columns)] + [
        ",".join(row[column] for column in columns) for row in TRACE_ROWS
    ]
    path.write_text("\n".join(lines) + "\n")

    since, until = nezha.baseline_period(files=[path])

    assert since == dt.datetime(2023, 1, 29, 8, 42, 48, 697000, tzinfo=dt.UTC)
    assert until == dt.datetime(2023, 1, 29, 8, 42, 49, 15316, tzinfo=dt.UTC)


def test_overflowed_log_time_uses_timestamp():
    row = {
        **LOG_ROW,
        "TimeUnixNano": "-6795364578871345152",
        "Timestamp": "2023-01-29T09:20:29.295",
    }

    record = nezha.logs_convert(rows=[row], customer_id="c").resource_logs[0].scope_logs[0]

    moment = dt.datetime(2023, 1, 29, 9, 20, 29, 295000, tzinfo=dt.UTC)
    assert record.log_records[0].time_unix_nano == int(moment.timestamp() * 1_000_000) * 1000


def test_metric_rows_skip_missing_values():
    rows = [
        {
            "TimeStamp": "1674981669",
            "PodName": "ts-basic-service-5dc8d4f9fd-46997",
            "CpuUsageRate(%)": "0.92",
            "MemoryUsageRate(%)": "20.4",
            "PodServerLatencyP90(s)": "NaN",
            "PodWorkload(Ops)": "1",
            "PodSuccessRate(%)": "0",
        },
    ]
    since = dt.datetime(2023, 1, 29, 8, 0, tzinfo=dt.UTC)

    request = nezha.metrics_convert(
        rows=rows, customer_id="c", since=since, until=since + dt.timedelta(hours=1)
    )

    metrics = {m.name: m for m in request.resource_metrics[0].scope_metrics[0].metrics}
    assert metrics["pod.cpu.usage_rate"].gauge.data_points[0].as_double == 0.92
    assert metrics["pod.cpu.usage_rate"].gauge.data_points[0].time_unix_nano == 1674981669 * 10**9
    assert len(metrics["pod.server.latency.p90"].gauge.data_points) == 0
