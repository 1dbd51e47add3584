"""Check results as text, JSON, GitHub workflow commands or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rapidvet.app import __version__
from rapidvet.checks.model import Block, Finding, Severity
from rapidvet.checks.page import PageReport
from rapidvet.checks.rapid_line import parse_rapid_line
from rapidvet.checks.rules import RULES

FORMATS = ("text", "json", "github", "sarif")
FORMAT_HELP = (
    "text (default): one line per finding and a summary; json: plans and findings per file; "
    "github: workflow commands that annotate a pull request; sarif: SARIF 2.1.0 for code "
    "scanning"
)
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Where each rule is explained, one section per rule id (docs/rules.md in the repository).
RULES_URL = "https://github.com/OWNER/rapidvet/blob/main/docs/rules.md"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}
# ANSI SGR codes: bold paths, severities in the colours linters use.
_BOLD, _RESET = "\033[1m", "\033[0m"
_SEVERITY_COLOR = {
    Severity.ERROR: "\033[31m",
    Severity.WARNING: "\033[33m",
    Severity.NOTICE: "\033[36m",
}


@dataclass(frozen=True)
class TextStyle:
    """How text output looks: ANSI colour, and the summary line (left out by --quiet)."""

    color: bool = False
    summary: bool = True


def rule_url(rule_id: str) -> str:
    return f"{RULES_URL}#{rule_id}"


def render(
    reports: Sequence[PageReport], fmt: str, style: TextStyle = TextStyle()
) -> Iterator[str]:
    """The output in pieces, so a large JSON document is written as it is made."""
    if fmt == "json":
        yield from json_pieces(reports)
        return
    whole = (
        as_text(reports, style)
        if fmt == "text"
        else {"github": as_github, "sarif": as_sarif}[fmt](reports)
    )
    if whole:
        yield whole + "\n"


def counts(reports: Sequence[PageReport]) -> dict[Severity, int]:
    tally = dict.fromkeys(Severity, 0)
    for report in reports:
        for finding in report.findings:
            tally[finding.severity] += 1
    return tally


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def as_text(reports: Sequence[PageReport], style: TextStyle = TextStyle()) -> str:
    lines = []
    for report in reports:
        for f in report.findings:
            path, severity = report.path, str(f.severity)
            if style.color:
                path = f"{_BOLD}{path}{_RESET}"
                severity = f"{_SEVERITY_COLOR[f.severity]}{severity}{_RESET}"
            lines.append(f"{path}:{f.line}: {severity} [{f.rule}] {f.message}")
            if f.fix:
                lines.extend(f"    fix: {part}" for part in f.fix.split("\n"))
    if style.summary:
        tally = counts(reports)
        blocks = sum(len(r.blocks) for r in reports)
        lines.append(
            f"{plural(len(reports), 'file')}, {plural(blocks, 'plan')}: "
            f"{plural(tally[Severity.ERROR], 'error')}, "
            f"{plural(tally[Severity.WARNING], 'warning')}, "
            f"{plural(tally[Severity.NOTICE], 'notice')}"
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
            f.message + (f"\n\nFix: {f.fix}" if f.fix else "") + f"\n\nRule: {rule_url(f.rule)}",
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
            "helpUri": rule_url(r.id),
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
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=1, ensure_ascii=False)
