"""The OTLP metrics receiver: encodings, auth, every point kind, partial success, selectors."""

import datetime as dt
import gzip

import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import HistogramDataPoint, Metric

from customers.models import Agent
from telemetry import selectors
from telemetry.models import IngestCounter, MetricSample
from tests.factories import CustomerFactory
from tests.telemetry.otlp_builders import (
    INGEST_HEADERS,
    PROTOBUF,
    START,
    gauge_build,
    gauge_point,
    metrics_request_build,
    nanos,
    otlp_post,
    pool_metrics_build,
    sum_build,
)

pytestmark = pytest.mark.django_db


def example(shared_data) -> bytes:
    return (shared_data / "otlp-examples" / "metrics.json").read_bytes()


def post_json(client, body: bytes, **headers):
    return client.post(
        "/v1/metrics",
        data=body,
        content_type="application/json",
        headers={**INGEST_HEADERS, **headers},
    )


def test_metrics_example_json_stored(client, shared_data):
    response = post_json(client, example(shared_data))

    assert response.status_code == 200
    assert response.json() == {}
    samples = {sample.name: sample for sample in MetricSample.objects.all()}
    assert set(samples) == {"my.counter", "my.gauge", "my.histogram", "my.exponential.histogram"}
    assert samples["my.gauge"].agent.name == "my.service"
    assert samples["my.gauge"].value == 10.0
    assert samples["my.gauge"].attributes == {"my.gauge.attr": "some value"}
    assert samples["my.gauge"].timestamp == dt.datetime(2018, 12, 13, 14, 51, 0, 300000, dt.UTC)


def test_example_counter_keeps_flags(client, shared_data):
    post_json(client, example(shared_data))

    counter = MetricSample.objects.get(name="my.counter")

    assert counter.kind == MetricSample.Kind.SUM
    assert counter.value == 5.0
    assert counter.is_monotonic is True
    assert counter.temporality == MetricSample.Temporality.DELTA


def test_example_histograms_keep_buckets(client, shared_data):
    post_json(client, example(shared_data))

    histogram = MetricSample.objects.get(name="my.histogram")
    exponential = MetricSample.objects.get(name="my.exponential.histogram")

    assert histogram.count == 2
    assert histogram.sum == 2.0
    assert histogram.value == 2.0
    assert histogram.buckets == {"bounds": [1.0], "counts": [1, 1], "min": 0.0, "max": 2.0}
    assert exponential.count == 3
    assert exponential.sum == 10.0
    assert exponential.buckets["scale"] == 0
    assert exponential.buckets["zero_count"] == 1
    assert exponential.buckets["positive"] == {"offset": 1, "counts": [0, 2]}


def test_protobuf_metrics_answer_protobuf(client):
    request = metrics_request_build(*pool_metrics_build(used=95, customer_id="cust-123"))

    response = otlp_post(client, "/v1/metrics", request)

    assert response.status_code == 200
    assert response["Content-Type"] == PROTOBUF
    assert not ExportMetricsServiceResponse.FromString(response.content).HasField("partial_success")
    used = MetricSample.objects.get(name="db.client.connection.count", value=95)
    assert used.value == 95.0
    assert used.customer.customer_id == "cust-123"
    assert used.agent.name == "WowMemory"
    assert used.attributes == {
        "db.client.connection.pool.name": "wowmemory-primary",
        "db.client.connection.state": "used",
    }
    assert used.is_monotonic is False
    assert used.temporality == MetricSample.Temporality.CUMULATIVE


def test_gzip_metrics_accepted(client):
    request = metrics_request_build(*pool_metrics_build(used=30))

    response = otlp_post(client, "/v1/metrics", request, compress=True)

    assert response.status_code == 200
    assert MetricSample.objects.count() == 3


def test_gzip_json_metrics_accepted(client, shared_data):
    response = post_json(
        client, gzip.compress(example(shared_data)), **{"Content-Encoding": "gzip"}
    )

    assert response.status_code == 200
    assert MetricSample.objects.count() == 4


def test_agent_attribute_beats_service(client):
    point = gauge_point(0.42, attributes={"gen_ai.agent.name": "WowCache"})
    request = metrics_request_build(
        gauge_build("process.cpu.utilization", point), resource={"service.name": "wow-platform"}
    )

    otlp_post(client, "/v1/metrics", request)

    sample = MetricSample.objects.get()
    assert sample.agent.name == "WowCache"
    assert sample.service_name == "wow-platform"
    assert sample.attributes == {}
    assert sample.customer is None


def test_metrics_without_token_rejected(client):
    request = metrics_request_build(*pool_metrics_build(used=30))

    response = otlp_post(client, "/v1/metrics", request, headers={})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="ingest"'
    assert status_pb2.Status.FromString(response.content).code == 16
    assert MetricSample.objects.count() == 0


def test_metrics_wrong_token_rejected(client):
    request = metrics_request_build(*pool_metrics_build(used=30))

    response = otlp_post(
        client, "/v1/metrics", request, headers={"Authorization": "Bearer wrong-token"}
    )

    assert response.status_code == 401
    assert MetricSample.objects.count() == 0


def test_bad_point_rejected_others_kept(client):
    missing_time = gauge_point(1.0)
    missing_time.time_unix_nano = 0
    bad_histogram = HistogramDataPoint(
        time_unix_nano=nanos(START), count=3, bucket_counts=[1, 2], explicit_bounds=[1.0, 2.0]
    )
    histogram = Metric(name="agent.latency", unit="s")
    histogram.histogram.data_points.append(bad_histogram)
    request = metrics_request_build(
        gauge_build("process.cpu.utilization", gauge_point(0.2), missing_time), histogram
    )

    response = otlp_post(client, "/v1/metrics", request)

    assert response.status_code == 200
    partial = ExportMetricsServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_data_points == 2
    assert partial.error_message == (
        "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1]: timeUnixNano is "
        "missing: set the data point's time.; resourceMetrics[0].scopeMetrics[0].metrics[1]"
        ".histogram.dataPoints[0]: bucketCounts has 2 entries for 2 explicitBounds: send one "
        "more count than bounds."
    )
    assert MetricSample.objects.get().value == 0.2
    assert IngestCounter.objects.get(name="metric_points_rejected").value == 2
    assert IngestCounter.objects.get(name="metric_points_accepted").value == 1


def test_json_partial_success_camel_case(client):
    body = json_format.MessageToJson(
        metrics_request_build(
            gauge_build("process.cpu.utilization", gauge_point(float("nan")), gauge_point(0.3))
        )
    ).encode()

    response = post_json(client, body)

    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedDataPoints"] == "1"
    assert (
        "as_double is nan: send a finite number."
        in (response.json()["partialSuccess"]["errorMessage"])
    )
    assert MetricSample.objects.get().value == 0.3


def test_no_recorded_value_skipped(client):
    empty = gauge_point(0.0)
    empty.flags = 1
    request = metrics_request_build(gauge_build("process.memory.utilization", empty))

    response = otlp_post(client, "/v1/metrics", request)

    assert response.status_code == 200
    assert not ExportMetricsServiceResponse.FromString(response.content).HasField("partial_success")
    assert MetricSample.objects.count() == 0


def test_resent_metrics_stored_once(client):
    request = metrics_request_build(*pool_metrics_build(used=30))

    otlp_post(client, "/v1/metrics", request)
    otlp_post(client, "/v1/metrics", request)

    assert MetricSample.objects.count() == 3


def test_monotonic_sum_keeps_total(client):
    points = [
        gauge_point(120.0, moment=START),
        gauge_point(180.0, moment=START + dt.timedelta(seconds=10)),
    ]
    request = metrics_request_build(sum_build("agent.calls", *points, monotonic=True, unit="1"))

    otlp_post(client, "/v1/metrics", request)

    values = list(MetricSample.objects.order_by("timestamp").values_list("value", flat=True))
    assert values == [120.0, 180.0]
    assert set(MetricSample.objects.values_list("is_monotonic", flat=True)) == {True}


def test_saturation_prefers_customer_series(client):
    now = dt.datetime.now(dt.UTC)
    customer = CustomerFactory(customer_id="cust-123")
    CustomerFactory(customer_id="cust-456")
    older = now - dt.timedelta(seconds=30)
    for metrics in (
        pool_metrics_build(used=31, moment=now),
        pool_metrics_build(used=90, customer_id="cust-123", moment=older),
        pool_metrics_build(used=95, customer_id="cust-123", moment=now),
        pool_metrics_build(used=99, customer_id="cust-456", moment=now),
    ):
        otlp_post(client, "/v1/metrics", metrics_request_build(*metrics))

    readings = selectors.saturation_readings_get(
        since=now - dt.timedelta(minutes=5), customer=customer
    )

    assert len(readings) == 1
    assert readings[0].metric == "db.client.connection.count"
    assert readings[0].agent == "WowMemory"
    assert readings[0].value == 95.0
    assert readings[0].limit == 100.0
    assert readings[0].resource == "wowmemory-primary"
    assert readings[0].customer_id == "cust-123"


def test_saturation_platform_readings(client):
    now = dt.datetime.now(dt.UTC)
    customer = CustomerFactory(customer_id="cust-789")
    queue = {"messaging.destination.name": "orchestration.tasks"}
    request = metrics_request_build(
        *pool_metrics_build(used=31, moment=now),
        gauge_build("messaging.queue.depth", gauge_point(260, attributes=queue, moment=now)),
        gauge_build("messaging.queue.capacity", gauge_point(300, attributes=queue, moment=now)),
        gauge_build("process.memory.utilization", gauge_point(0.873, moment=now)),
        resource={"service.name": "WowOrchestrator"},
    )
    otlp_post(client, "/v1/metrics", request)

    readings = selectors.saturation_readings_get(
        since=now - dt.timedelta(minutes=5), customer=customer
    )

    by_metric = {reading.metric: reading for reading in readings}
    assert set(by_metric) == {
        "db.client.connection.count",
        "messaging.queue.depth",
        "process.memory.utilization",
    }
    assert by_metric["messaging.queue.depth"].value == 260.0
    assert by_metric["messaging.queue.depth"].limit == 300.0
    assert by_metric["messaging.queue.depth"].resource == "orchestration.tasks"
    assert by_metric["process.memory.utilization"].value == 87.3
    assert by_metric["process.memory.utilization"].limit == 100.0
    assert by_metric["db.client.connection.count"].customer_id is None


def test_latest_list_one_per_series(client):
    now = dt.datetime.now(dt.UTC)
    for seconds, value in ((20, 0.1), (10, 0.2), (0, 0.3)):
        moment = now - dt.timedelta(seconds=seconds)
        otlp_post(
            client,
            "/v1/metrics",
            metrics_request_build(
                gauge_build("process.cpu.utilization", gauge_point(value, moment=moment))
            ),
        )

    latest = selectors.metric_latest_list(
        names=["process.cpu.utilization"], since=now - dt.timedelta(minutes=1)
    )

    assert [sample.value for sample in latest] == [0.3]
    assert Agent.objects.get().name == "WowMemory"
