"""Prometheus metrics shared by every service (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RELAY_LAG = Gauge("gongkai_relay_lag_events", "Committed events not yet published", ["service"])
RELAY_PUBLISHED = Counter("gongkai_relay_published_total", "Events published", ["service"])
CONSUMER_HANDLED = Counter(
    "gongkai_consumer_handled_total", "Messages handled", ["consumer", "outcome"]
)
CONSUMER_LAG = Gauge("gongkai_consumer_lag_messages", "Messages pending", ["consumer"])
EVENTS_APPENDED = Counter("gongkai_events_appended_total", "Events appended", ["service", "type"])
HTTP_LATENCY = Histogram(
    "gongkai_http_request_seconds", "HTTP request latency", ["service", "method", "route", "status"]
)
