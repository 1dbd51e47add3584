"""One page checked: its blocks and every finding on it, page-level rules included."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidvet.checks.model import Block, Finding
from rapidvet.checks.nesting import NESTING_LIMIT, nesting_depth
from rapidvet.checks.options import CheckOptions, Kind
from rapidvet.checks.parse import parse_blocks
from rapidvet.checks.rules import NOT_IN_TOC, TOO_LARGE, run_rules, severity_for
from rapidvet.checks.toc import listed


@dataclass(frozen=True)
class PageReport:
    path: str
    blocks: tuple[Block, ...]
    findings: tuple[Finding, ...]


@lru_cache(maxsize=8)
def _screens(kinds: tuple[Kind, ...]) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    names = "|".join(re.escape(kind.name) for kind in kinds)
    firsts = "|".join(re.escape(kind.sections[0]) for kind in kinds)
    lasts = "|".join(re.escape(kind.sections[-1]) for kind in kinds)
    flags = re.IGNORECASE | re.MULTILINE
    # A kind named on a line that can be a title: heading, bold line, table row, HTML heading,
    # or a line underlined as a setext heading.
    titled = re.compile(
        rf"^[ \t]*(?:#{{1,6}}[ \t]|\*\*|__|\||<h[1-6]).*?(?:{names})"
        rf"|^[^\n]*(?:{names})[^\n]*\n[ \t]*(?:=+|-+)[ \t]*$",
        flags,
    )
    label = r"^[ \t]*(?:#{{1,6}}[ \t]+|[-*+>|][ \t]*|\*\*|__)*(?:{})\b"
    return titled, re.compile(label.format(firsts), flags), re.compile(label.format(lasts), flags)


def may_hold_plan(text: str, options: CheckOptions) -> bool:
    """Cheap screen before a full parse: a plan's page names its kind where a title can
    stand, or, for a plan under another heading, starts lines with its first and last
    section labels."""
    titled, first, last = _screens(tuple(options.kinds))
    return bool(titled.search(text) or (first.search(text) and last.search(text)))


def _unchecked(path: str, why: str, fix: str, options: CheckOptions) -> PageReport:
    """The report for a page not parsed: no blocks, one page-too-large finding at line 1."""
    severity = severity_for(TOO_LARGE, options)
    if severity is None:
        return PageReport(path, (), ())
    return PageReport(path, (), (Finding(TOO_LARGE, severity, f"{path} {why}", 1, fix=fix),))


def oversized_page(path: str, size: int, options: CheckOptions) -> PageReport:
    """The report for a page over `max_page_bytes`."""
    return _unchecked(
        path,
        f"is {size:,} bytes, more than the {options.max_page_bytes:,} bytes"
        " a page may have to be checked",
        "Split the page into smaller pages, or raise checks.max_page_bytes in rapid.yml",
        options,
    )


def too_deep_page(path: str, depth: int, options: CheckOptions) -> PageReport:
    """The report for a page whose lists or quotes nest deeper than the parser reads."""
    return _unchecked(
        path,
        f"has lists or quotes nested {depth} levels deep, deeper than the {NESTING_LIMIT}"
        " levels the parser reads (a list counts two, a quote one): it would skip the rest",
        "Nest lists at most 9 deep and quotes at most 19, or split the page",
        options,
    )


def check_page(text: str, path: str, options: CheckOptions) -> PageReport:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > options.max_page_bytes:
        return oversized_page(path, size, options)
    depth = nesting_depth(text)
    if depth > NESTING_LIMIT:
        return too_deep_page(path, depth, options)
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
