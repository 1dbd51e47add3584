"""Every metric rapidvet serves on /metrics, in one place, on the default registry.

Label values stay bounded: events and outcomes are fixed words, GitHub endpoints are path
templates (`/repos/{owner}/{repo}/pulls/{number}`), installations are ids.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

github_calls_total = Counter(
    "github_calls_total",
    "GitHub API calls by endpoint template, method and status ('error' when no answer came)",
    ["endpoint", "method", "status"],
)
github_rate_limit_remaining = Gauge(
    "github_rate_limit_remaining",
    "Requests left in the current GitHub rate-limit window, per installation ('app' for the JWT)",
    ["installation"],
)
deliveries_total = Counter(
    "deliveries_total", "Webhook deliveries received, by event and outcome", ["event", "outcome"]
)
jobs_total = Counter(
    "jobs_total", "Jobs run by the worker, by event and outcome", ["event", "outcome"]
)
job_seconds = Histogram("job_seconds", "Time to run one job, by event", ["event"])
queue_depth = Gauge("queue_depth", "Jobs waiting to run")
dead_jobs = Gauge("dead_jobs", "Jobs parked as dead after their last try")
oldest_job_age = Gauge("oldest_job_age_seconds", "Age of the oldest waiting job")
checks_gave_up_total = Counter(
    "checks_gave_up_total",
    "Jobs whose checking of untrusted content was stopped, by cause (timeout, memory, crashed)",
    ["cause"],
)
