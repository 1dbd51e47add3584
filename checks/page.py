"""One page checked: its blocks and every finding on it, page-level rules included."""

from __future__ import annotations

from dataclasses import dataclass

from rapidvet.checks.model import Block, Finding
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.parse import parse_blocks
from rapidvet.checks.rules import NOT_IN_TOC, run_rules, severity_for
from rapidvet.checks.toc import listed


@dataclass(frozen=True)
class PageReport:
    path: str
    blocks: tuple[Block, ...]
    findings: tuple[Finding, ...]


def may_hold_plan(text: str, options: CheckOptions) -> bool:
    """Cheap screen before a full parse: a plan's page names its kind, or, for a plan under
    another heading, has the first and last section labels."""
    folded = text.casefold()
    if any(kind.name.casefold() in folded for kind in options.kinds):
        return True
    return all(any(kind.sections[i] in folded for kind in options.kinds) for i in (0, -1))


def check_page(text: str, path: str, options: CheckOptions) -> PageReport:
    blocks = parse_blocks(text, options.kinds) if may_hold_plan(text, options) else ()
    findings = [f for block in blocks for f in run_rules(block, options)]
    severity = severity_for(NOT_IN_TOC, options)
    if blocks and options.toc is not None and severity and not listed(path, options.toc):
        findings.append(
            Finding(
                NOT_IN_TOC,
                severity,
                f"{path} holds a plan but is not listed in the table of contents",
                1,
                fix="Link the page from SUMMARY.md (or the Sphinx toctree)",
            )
        )
    findings.sort(key=lambda f: (f.line, f.rule))
    return PageReport(path, blocks, tuple(findings))
