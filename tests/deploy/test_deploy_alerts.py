"""deploy/prometheus/alerts.yml: Prometheus rule-file structure, every expression naming metrics
(and labels, and label values) that app/metrics.py and the code really have, and, where
Debian's promtool is on PATH (always in CI), `promtool check rules` plus a unit test in which
each alert fires on bad series and stays quiet on healthy ones."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from rapidvet.app import metrics
from tests.support.deploy_helpers import DEPLOY, ROOT, yaml_file

ALERTS = DEPLOY / "prometheus" / "alerts.yml"
RULE_FIELDS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
SEVERITIES = {"warning", "critical"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
# The metrics the issue asks alerts for: dead jobs, old queued jobs, deliveries, rate limit.
REQUIRED = {
    "dead_jobs",
    "oldest_job_age_seconds",
    "deliveries_total",
    "github_rate_limit_remaining",
}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"} | {
    "group_left",
    "group_right",
    "inf",
    "nan",
}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}
MISSING_PROMTOOL = "promtool is not on PATH (.ci/run puts Debian's there: docs/development.md)"


@pytest.fixture
def promtool() -> str:
    """promtool's path. Without it the tests skip on a developer's machine, but fail in CI
    (`CI` set, as .ci/run and CI services set it): there they must run."""
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING_PROMTOOL, pytrace=False)
        pytest.skip(MISSING_PROMTOOL)
    return found


def exposed() -> dict[str, set[str]]:
    """Each series name /metrics can show, with its label names."""
    names: dict[str, set[str]] = {}
    for metric in vars(metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        (family,) = metric.describe()
        labels = set(metric._labelnames)
        for suffix in SUFFIXES[family.type]:
            names[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return names


def rules() -> list[dict[str, Any]]:
    return [rule for group in yaml_file(ALERTS)["groups"] for rule in group["rules"]]


def selectors(expr: str) -> tuple[set[str], list[tuple[str, str, str, str]], set[str]]:
    """Metric names, label matchers (metric, label, operator, value) and grouping labels."""
    matchers = []
    for name, body in re.findall(r"([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}", expr):
        for label, op, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', body):
            matchers.append((name, label, op, value))
    grouping = re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", expr)
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    words = re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", bare)
    names = {w for w in words if w not in PROMQL_WORDS}
    labels = {label.strip() for group in grouping for label in group.split(",") if label.strip()}
    return names, matchers, labels


def source_strings() -> set[str]:
    """Every string literal in the app's code: the label values it can emit are among them."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "app").rglob("*.py"))
    return set(re.findall(r'"([\w.-]+)"', text))


def test_rule_file_structure():
    document = yaml_file(ALERTS)
    assert set(document) == {"groups"}
    groups = document["groups"]
    assert len({g["name"] for g in groups}) == len(groups)
    for group in groups:
        assert set(group) <= {"name", "interval", "limit", "rules"}, group["name"]
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)), names
    for rule in rules():
        assert set(rule) <= RULE_FIELDS and {"alert", "expr"} <= set(rule), rule["alert"]
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
        assert DURATION.match(rule.get("for", "0s")), rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_expression_names_real_metrics_and_labels(rule: dict[str, Any]):
    known = exposed()
    names, matchers, grouping = selectors(rule["expr"])
    assert names, f"{rule['alert']} names no metric"
    assert names <= set(known), f"not in app/metrics.py: {names - set(known)}"
    labels = set().union(*(known[n] for n in names))
    assert grouping <= labels
    emitted = source_strings()
    for name, label, op, value in matchers:
        assert label in known[name], f"{name} has no label {label}"
        # An equality, or each plain word of an alternation, is a value the code emits.
        words = [value] if op in ("=", "!=") else value.split("|")
        literal = [w for w in words if re.fullmatch(r"\w+", w) and not w.isdigit()]
        assert set(literal) <= emitted, f"{label} values never emitted: {set(literal) - emitted}"


def test_alerts_cover_dead_and_old_jobs_deliveries_and_rate_limit():
    used = set().union(*(selectors(rule["expr"])[0] for rule in rules()))
    assert used >= REQUIRED


def test_the_metric_check_catches_a_misspelt_metric():
    names, _, _ = selectors('sum(rate(delivery_total{outcome="queued"}[5m])) by (event) > 0')
    assert names == {"delivery_total"}
    assert not names <= set(exposed())


def test_promtool_check_rules(promtool: str):
    done = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


# Series for promtool's unit test: one minute apart, 40 minutes long, so every `for` elapses.
BAD = {
    "dead_jobs": "2x40",
    "oldest_job_age_seconds": "1000+60x40",
    'jobs_total{event="pull_request",outcome="retried"}': "0+10x40",
    'jobs_total{event="pull_request",outcome="done"}': "0+10x40",
    'deliveries_total{event="push",outcome="bad_signature"}': "0+1x40",
    'deliveries_total{event="push",outcome="bad_json"}': "0+1x40",
    'deliveries_total{event="push",outcome="queued"}': "0+1x40",
    'github_calls_total{endpoint="/repos/{owner}/{repo}",method="GET",status="502"}': "0+5x40",
    'github_calls_total{endpoint="/repos/{owner}/{repo}",method="GET",status="200"}': "0+5x40",
    'github_rate_limit_remaining{installation="42"}': "100x40",
}
HEALTHY = {
    "dead_jobs": "0x40",
    "oldest_job_age_seconds": "3x40",
    'jobs_total{event="pull_request",outcome="retried"}': "0x40",
    'jobs_total{event="pull_request",outcome="done"}': "0+10x40",
    'deliveries_total{event="push",outcome="queued"}': "0+1x40",
    'github_calls_total{endpoint="/repos/{owner}/{repo}",method="GET",status="200"}': "0+5x40",
    'github_rate_limit_remaining{installation="42"}': "4000x40",
}


# What each summary renders to on the BAD series: the templates work, and say the right thing.
SUMMARIES = {
    "RapidvetDeadJobs": "2 rapidvet jobs are dead",
    "RapidvetJobsWaiting": "The oldest queued rapidvet job has waited 46m 40s",
    "RapidvetJobsFailing": "50% of rapidvet job tries fail",
    "RapidvetWebhookSignaturesRejected": (
        "rapidvet refused 15 webhook deliveries with a wrong signature"
    ),
    "RapidvetDeliveriesFailing": "33.33% of webhook deliveries are refused",
    "RapidvetGitHubCallsFailing": "50% of GitHub API calls fail",
    "RapidvetRateLimitLow": "GitHub rate limit for installation 42 is down to 100 requests",
}


def expected_alert(rule: dict[str, Any]) -> dict[str, Any]:
    extra = {"installation": "42"} if "by (installation)" in rule["expr"] else {}
    annotations = {**rule["annotations"], "summary": SUMMARIES[rule["alert"]]}
    assert "{{" not in annotations.get("description", ""), "give its rendered text here"
    return {"exp_labels": {**rule["labels"], **extra}, "exp_annotations": annotations}


def promtool_test(series: dict[str, str], firing: bool) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": [{"series": name, "values": values} for name, values in series.items()],
        "alert_rule_test": [
            {
                "eval_time": "30m",
                "alertname": rule["alert"],
                "exp_alerts": [expected_alert(rule)] if firing else [],
            }
            for rule in rules()
        ],
    }


def test_each_alert_fires_on_bad_series_and_not_on_healthy_ones(tmp_path: Path, promtool: str):
    (tmp_path / ALERTS.name).write_text(ALERTS.read_text(encoding="utf-8"), encoding="utf-8")
    suite = {
        "rule_files": [ALERTS.name],
        "evaluation_interval": "1m",
        "tests": [promtool_test(BAD, firing=True), promtool_test(HEALTHY, firing=False)],
    }
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    done = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
