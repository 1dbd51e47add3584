"""Check results as text, JSON, GitHub workflow commands or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from importlib.metadata import version
from typing import Any

from rapidvet.checks.model import Block, Finding, Severity
from rapidvet.checks.page import PageReport
from rapidvet.checks.rapid_line import parse_rapid_line
from rapidvet.checks.rules import RULES

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def render(reports: Sequence[PageReport], fmt: str) -> Iterator[str]:
    """The output in pieces, so a large JSON document is written as it is made."""
    if fmt == "json":
        yield from json_pieces(reports)
        return
    whole = {"text": as_text, "github": as_github, "sarif": as_sarif}[fmt](reports)
    if whole:
        yield whole + "\n"


def counts(reports: Sequence[PageReport]) -> dict[Severity, int]:
    tally = dict.fromkeys(Severity, 0)
    for report in reports:
        for finding in report.findings:
            tally[finding.severity] += 1
    return tally


def as_text(reports: Sequence[PageReport]) -> str:
    lines = []
    for report in reports:
        for f in report.findings:
            lines.append(f"{report.path}:{f.line}: {f.severity} [{f.rule}] {f.message}")
            if f.fix:
                lines.extend(f"    fix: {part}" for part in f.fix.split("\n"))
    tally = counts(reports)
    blocks = sum(len(r.blocks) for r in reports)
    lines.append(
        f"{len(reports)} files, {blocks} plans: {tally[Severity.ERROR]} errors, "
        f"{tally[Severity.WARNING]} warnings, {tally[Severity.NOTICE]} notices"
    )
    return "\n".join(lines)


def block_json(block: Block) -> dict[str, Any]:
    rapid = block.row("rapid")
    holders = parse_rapid_line(rapid.value).holders if rapid else ()
    return {
        "title": block.title,
        "kind": block.kind,
        "line": block.line,
        "end_line": block.end_line,
        "sections": [s.name for s in block.sections],
        "metadata": {row.key: row.value for row in block.metadata},
        "rapid": [{"holder": h.name, "roles": list(h.roles)} for h in holders],
    }


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": str(f.severity),
        "line": f.line,
        "message": f.message,
        "fix": f.fix,
    }


def json_pieces(reports: Sequence[PageReport]) -> Iterator[str]:
    """`{"files": [...]}`, one file at a time."""
    yield '{"files": ['
    for n, r in enumerate(reports):
        entry = {
            "path": r.path,
            "blocks": [block_json(b) for b in r.blocks],
            "findings": [finding_json(f) for f in r.findings],
        }
        yield ("," if n else "") + "\n " + json.dumps(entry, ensure_ascii=False)
    yield "\n]}\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(level: str, message: str, **properties: str | int | None) -> str:
    """One GitHub Actions workflow command (`::error file=...,line=...::message`), which the
    runner shows as an annotation; properties that are None are left out."""
    props = ",".join(
        f"{key}={_escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{level} {props}::{_escape_data(message)}"


def as_github(reports: Sequence[PageReport]) -> str:
    return "\n".join(
        workflow_command(
            str(f.severity),
            f.message + (f"\n\nFix: {f.fix}" if f.fix else ""),
            file=report.path,
            line=f.line,
            endLine=f.end_line,
            title=f"rapidvet {f.rule}",
        )
        for report in reports
        for f in report.findings
    )


def as_sarif(reports: Sequence[PageReport]) -> str:
    rules = [
        {
            "id": r.id,
            "shortDescription": {"text": r.summary},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        }
        for r in RULES.values()
    ]
    index = {r.id: n for n, r in enumerate(RULES.values())}
    results = [
        {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": report.path},
                        "region": {"startLine": f.line, "endLine": f.end_line or f.line},
                    }
                }
            ],
        }
        for report in reports
        for f in report.findings
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "rapidvet",
                        "version": version("rapidvet"),
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=1, ensure_ascii=False)
