"""Check results as text, JSON, GitHub workflow commands or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

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


class Piece(NamedTuple):
    """A page's part of the output, made where the page was checked (a helper process sends
    this string, not the page's findings), and the figures the summary counts of it."""

    text: str  # "" for a page that adds nothing to the format's output
    tally: tuple[int, int, int]  # findings shown: errors, warnings, notices
    plans: int


def piece(report: PageReport, fmt: str, style: TextStyle = TextStyle()) -> Piece:
    """`report` as a piece of `fmt`'s output."""
    text = _PIECE[fmt](report, style)
    tally = dict.fromkeys(Severity, 0)
    for finding in report.findings:
        tally[finding.severity] += 1
    counted = (tally[Severity.ERROR], tally[Severity.WARNING], tally[Severity.NOTICE])
    return Piece(text, counted, len(report.blocks))


def document(pieces: Sequence[Piece], fmt: str, style: TextStyle = TextStyle()) -> Iterator[str]:
    """The whole output, in parts, so a large document is written as it is made."""
    if fmt == "json":
        yield '{"files": ['
        yield from (("," if n else "") + "\n " + p.text for n, p in enumerate(pieces))
        yield "\n]}\n"
    elif fmt == "sarif":
        yield from _sarif_document([p.text for p in pieces if p.text])
    else:
        lines = [p.text for p in pieces if p.text]
        if fmt == "text" and style.summary:
            lines.append(_summary(pieces))
        if lines:
            yield "\n".join(lines) + "\n"


def errors(pieces: Sequence[Piece]) -> int:
    return sum(p.tally[0] for p in pieces)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _text_piece(report: PageReport, style: TextStyle) -> str:
    lines = []
    for f in report.findings:
        path, severity = report.path, str(f.severity)
        if style.color:
            path = f"{_BOLD}{path}{_RESET}"
            severity = f"{_SEVERITY_COLOR[f.severity]}{severity}{_RESET}"
        lines.append(f"{path}:{f.line}: {severity} [{f.rule}] {f.message}")
        if f.fix:
            lines.extend(f"    fix: {part}" for part in f.fix.split("\n"))
    return "\n".join(lines)


def _summary(pieces: Sequence[Piece]) -> str:
    found = [sum(p.tally[n] for p in pieces) for n in range(3)]
    return (
        f"{plural(len(pieces), 'file')}, {plural(sum(p.plans for p in pieces), 'plan')}: "
        f"{plural(found[0], 'error')}, {plural(found[1], 'warning')}, "
        f"{plural(found[2], 'notice')}"
    )


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


def _json_piece(report: PageReport, style: TextStyle) -> str:
    entry = {
        "path": report.path,
        "blocks": [block_json(b) for b in report.blocks],
        "findings": [finding_json(f) for f in report.findings],
    }
    return json.dumps(entry, ensure_ascii=False)


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


def _github_piece(report: PageReport, style: TextStyle) -> str:
    return "\n".join(
        workflow_command(
            str(f.severity),
            f.message + (f"\n\nFix: {f.fix}" if f.fix else "") + f"\n\nRule: {rule_url(f.rule)}",
            file=report.path,
            line=f.line,
            endLine=f.end_line,
            title=f"rapidvet {f.rule}",
        )
        for f in report.findings
    )


def _sarif_piece(report: PageReport, style: TextStyle) -> str:
    """The page's SARIF results, comma-separated, each on a line of its own."""
    return ",\n".join(
        json.dumps(
            {
                "ruleId": f.rule,
                "ruleIndex": _RULE_INDEX[f.rule],
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
            },
            ensure_ascii=False,
        )
        for f in report.findings
    )


def _sarif_document(results: Sequence[str]) -> Iterator[str]:
    rules = [
        {
            "id": r.id,
            "shortDescription": {"text": r.summary},
            "helpUri": rule_url(r.id),
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        }
        for r in RULES.values()
    ]
    run = {"tool": {"driver": {"name": "rapidvet", "version": __version__, "rules": rules}}}
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run | {"results": []}]}
    # The results go where the empty list stands, in the pieces the pages were checked into.
    head, tail = json.dumps(log, indent=1, ensure_ascii=False).rsplit('"results": []', 1)
    yield head + '"results": ['
    yield from (("," if n else "") + "\n" + text for n, text in enumerate(results))
    yield "\n]" + tail + "\n"


_PIECE: dict[str, Callable[[PageReport, TextStyle], str]] = {
    "text": _text_piece,
    "json": _json_piece,
    "github": _github_piece,
    "sarif": _sarif_piece,
}
_RULE_INDEX = {r.id: n for n, r in enumerate(RULES.values())}
