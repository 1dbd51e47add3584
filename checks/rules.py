"""The structural rules (docs/architecture.md#rules): small named functions registered in one
table.

Each rule takes a block and the options and yields `Hit`s; `run_rules` turns them into
`Finding`s with the rule's id and its (possibly re-graded) severity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import pairwise

from rapidvet.checks.dates import is_unset, parse_date, parse_period
from rapidvet.checks.fix_templates import (
    DATE_TEMPLATE,
    metadata_row,
    period_for,
)
from rapidvet.checks.model import Block, Finding, Section, Severity
from rapidvet.checks.options import CheckOptions, Kind
from rapidvet.checks.parse import METADATA_KEYS
from rapidvet.checks.rapid_line import TEMPLATE as RAPID_TEMPLATE
from rapidvet.checks.rapid_line import parse_rapid_line


@dataclass(frozen=True)
class Hit:
    message: str
    line: int
    end_line: int | None = None
    fix: str | None = None


Check = Callable[[Block, CheckOptions], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    check: Check | None  # None for page-level rules, which checks.page applies


RULES: dict[str, Rule] = {}
_SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")
_NUMBER = re.compile(r"\d")
_TBA_TITLE = re.compile(r"\((TBA|TBD)\)", re.IGNORECASE)


def rule(rule_id: str, severity: Severity, summary: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES[rule_id] = Rule(rule_id, severity, summary, check)
        return check

    return register


def severity_for(rule_id: str, options: CheckOptions) -> Severity | None:
    """The grade a rule's findings get, or None when the rule is switched off."""
    grade = options.rules.get(rule_id)
    if grade == "off":
        return None
    return Severity(grade) if grade else RULES[rule_id].severity


def run_rules(block: Block, options: CheckOptions) -> list[Finding]:
    findings = []
    for rule_id, entry in RULES.items():
        severity = severity_for(rule_id, options)
        if severity is None or entry.check is None:
            continue
        for hit in entry.check(block, options):
            findings.append(
                Finding(
                    rule_id, severity, hit.message, hit.line, hit.end_line, hit.fix, block.title
                )
            )
    return findings


def kind_of(block: Block, options: CheckOptions) -> Kind:
    return next((k for k in options.kinds if k.name == block.kind), options.kinds[0])


def _is_plan(block: Block) -> bool:
    return block.placeholder is None


def _covered(kind: Kind, names: set[str]) -> set[str]:
    """The kind's sections a plan has, counting the merged and swapped labels."""
    names = set(names)
    if "methods & measures" in names:
        names |= {"methods", "measures"}
    if {"values", "priorities"} & names:
        names |= {"values", "priorities"} & set(kind.sections)
    return names & set(kind.sections)


@rule("placeholder", Severity.WARNING, 'Placeholder such as "(TBA)", "TBD" or "to be added"')
def _placeholder(block: Block, options: CheckOptions) -> Iterator[Hit]:
    if block.placeholder is not None:
        marker = block.placeholder
        yield Hit(
            f'"{block.title}" is a placeholder ({marker}): the plan is not written yet',
            block.line,
            fix="Write the plan, or remove the heading until there is one",
        )
    elif _TBA_TITLE.search(block.title):
        yield Hit(
            f'"{block.title}" holds a plan but its title still says (TBA)',
            block.line,
            fix=f"Retitle it: {_TBA_TITLE.sub('', block.title).strip()}",
        )


@rule("section-missing", Severity.ERROR, "A section of the plan's kind is missing")
def _section_missing(block: Block, options: CheckOptions) -> Iterator[Hit]:
    if not _is_plan(block):
        return
    kind = kind_of(block, options)
    have = _covered(kind, {s.name for s in block.sections})
    for n, name in enumerate(kind.sections):
        if name not in have:
            after = f" after {kind.sections[n - 1].title()}" if n else " first"
            yield Hit(
                f"{kind.name} plan has no {name.title()} section",
                block.line,
                fix=f"Add the {name.title()} section{after}",
            )


@rule("section-order", Severity.WARNING, "Sections are not in the kind's order")
def _section_order(block: Block, options: CheckOptions) -> Iterator[Hit]:
    if not _is_plan(block):
        return
    kind = kind_of(block, options)
    position = {name: n for n, name in enumerate(kind.sections)}
    position.setdefault("values", position.get("priorities", -1))
    position.setdefault("priorities", position.get("values", -1))
    seen = [s for s in block.sections if position.get(s.name, -1) >= 0]
    for earlier, later in pairwise(seen):
        if position[later.name] < position[earlier.name]:
            order = ", ".join(s.title() for s in kind.sections)
            yield Hit(
                f"{later.label} comes after {earlier.label}; {kind.name} order is {order}",
                later.line,
                fix=f"Move {later.label} before {earlier.label}",
            )
            return


@rule("values-for-priorities", Severity.WARNING, '"Values" used where the kind has Priorities')
def _values_for_priorities(block: Block, options: CheckOptions) -> Iterator[Hit]:
    kind = kind_of(block, options)
    if "priorities" not in kind.sections or "values" in kind.sections:
        return
    for section in block.sections:
        if section.name == "values":
            yield Hit(
                f'{kind.name} plans name this section Priorities, not "{section.label}"',
                section.line,
                fix=f'Rename "{section.label}" to "Priorities"',
            )


@rule("metadata-missing", Severity.ERROR, "The plan has no metadata table")
def _metadata_missing(block: Block, options: CheckOptions) -> Iterator[Hit]:
    if _is_plan(block) and not block.metadata:
        first, *rest = (metadata_row(key, block.title) for key in METADATA_KEYS)
        table = "\n".join([first, "|:---|:---|", *rest])
        yield Hit(
            "plan has no metadata table (Period, RAPID, Vetted date, Previous versions)",
            block.line,
            fix=f"Add under the title, filling in each <...>:\n{table}",
        )


@rule("metadata-row-missing", Severity.ERROR, "The metadata table lacks a required row")
def _metadata_row_missing(block: Block, options: CheckOptions) -> Iterator[Hit]:
    if not block.metadata:
        return
    line = block.table_line or block.line
    for key in METADATA_KEYS:
        if block.row(key) is None:
            yield Hit(
                f'metadata table has no "{key.capitalize() if key != "rapid" else "RAPID"}" row',
                line,
                fix=f"Add the row {metadata_row(key, block.title)}",
            )


@rule("date-unparseable", Severity.ERROR, "Period or Vetted date is not a date")
def _date_unparseable(block: Block, options: CheckOptions) -> Iterator[Hit]:
    period = block.row("period")
    if period and not is_unset(period.value) and parse_period(period.value) is None:
        yield Hit(
            f'Period "{period.value}" is not a date range',
            period.line,
            fix=f'Write it as "{period_for(block.title)}", dates as "{DATE_TEMPLATE}"',
        )
    vetted = block.row("vetted date")
    if vetted and not is_unset(vetted.value) and parse_date(vetted.value) is None:
        yield Hit(
            f'Vetted date "{vetted.value}" is not a date',
            vetted.line,
            fix=f'Write it as "{DATE_TEMPLATE}", or TBD until the plan is vetted',
        )


def _vetted(block: Block) -> tuple[date, int] | None:
    row = block.row("vetted date")
    parsed = parse_date(row.value) if row else None
    return (parsed.value, row.line) if parsed and row else None


@rule("vetted-outside-period", Severity.WARNING, "Vetted date falls outside the Period")
def _vetted_outside_period(block: Block, options: CheckOptions) -> Iterator[Hit]:
    vetted = _vetted(block)
    row = block.row("period")
    period = parse_period(row.value) if row else None
    if vetted and period and not period.start.value <= vetted[0] <= period.end.value:
        yield Hit(
            f"Vetted date {vetted[0]:%b %d, %Y} is outside the Period {period.text}",
            vetted[1],
        )


@rule("plan-stale", Severity.WARNING, "The plan was vetted longer ago than stale_after_days")
def _plan_stale(block: Block, options: CheckOptions) -> Iterator[Hit]:
    vetted = _vetted(block)
    if vetted and (options.today - vetted[0]).days > options.stale_after_days:
        age = (options.today - vetted[0]).days
        yield Hit(
            f"plan was vetted {age} days ago (limit {options.stale_after_days}): re-vet it",
            vetted[1],
            fix="Review the plan through RAPID and merge to record a new Vetted date",
        )


@rule("vetted-in-future", Severity.WARNING, "Vetted date lies in the future")
def _vetted_in_future(block: Block, options: CheckOptions) -> Iterator[Hit]:
    vetted = _vetted(block)
    if vetted and vetted[0] > options.today:
        yield Hit(f"Vetted date {vetted[0]:%b %d, %Y} is in the future", vetted[1])


_RAPID_RULES = {
    "unparseable": "rapid-unparseable",
    "no-decider": "rapid-no-decider",
    "two-deciders": "rapid-two-deciders",
    "unknown-role": "rapid-unknown-role",
    "empty-roles": "rapid-unknown-role",
    "duplicate-holder": "rapid-duplicate-holder",
}


# The six RAPID rules read a block's line one after another: parsed once for all of them.
_rapid_line = lru_cache(maxsize=4)(parse_rapid_line)


def _rapid_problems(code: str) -> Check:
    def check(block: Block, options: CheckOptions) -> Iterator[Hit]:
        row = block.row("rapid")
        if row is None or is_unset(row.value):
            return
        for problem in _rapid_line(row.value).problems:
            if _RAPID_RULES.get(problem.code) == code:
                yield Hit(f"RAPID: {problem.message}", row.line, fix=_RAPID_FIX.get(code))

    return check


_RAPID_FIX = {
    "rapid-unparseable": f"Write it as HOLDER(ROLES) entries: {RAPID_TEMPLATE}",
    "rapid-no-decider": "Give exactly one holder the D role",
    "rapid-two-deciders": "Keep D on one holder only",
    "rapid-unknown-role": "Use only the letters R, A, P, I and D",
}
for _id, _severity, _summary in (
    ("rapid-unparseable", Severity.ERROR, "The RAPID line cannot be read"),
    ("rapid-no-decider", Severity.ERROR, "No holder has D"),
    ("rapid-two-deciders", Severity.ERROR, "More than one holder has D"),
    ("rapid-unknown-role", Severity.ERROR, "A role letter is not R, A, P, I or D"),
    ("rapid-duplicate-holder", Severity.WARNING, "A holder is listed twice"),
):
    rule(_id, _severity, _summary)(_rapid_problems(_id))


@rule("rapid-unknown-alias", Severity.WARNING, "A RAPID holder is not a handle nor a known alias")
def _rapid_unknown_alias(block: Block, options: CheckOptions) -> Iterator[Hit]:
    row = block.row("rapid")
    if row is None or options.aliases is None:
        return
    for holder in _rapid_line(row.value).holders:
        if not holder.name.startswith("@") and holder.name not in options.aliases:
            yield Hit(
                f'RAPID holder "{holder.name}" is not an alias in rapid.yml',
                row.line,
                fix=f"Add \"{holder.name}: '@<login>'\" under aliases, or write the @<login>",
            )


def _length(block: Block) -> int:
    commentary = block.section("commentary")
    lines = block.end_line - block.line + 1
    if commentary:
        lines -= commentary.end_line - commentary.line + 1
    return lines


@rule("too-long", Severity.WARNING, "The plan is longer than one page, Commentary excluded")
def _too_long(block: Block, options: CheckOptions) -> Iterator[Hit]:
    length = _length(block)
    if _is_plan(block) and length > options.one_page_lines:
        yield Hit(
            f"plan is {length} lines long, more than one page ({options.one_page_lines} lines)",
            block.line,
            block.end_line,
            fix="Move detail into a Commentary section at the end",
        )


@rule("commentary-not-last", Severity.WARNING, "Commentary is not the last section")
def _commentary_not_last(block: Block, options: CheckOptions) -> Iterator[Hit]:
    commentary = block.section("commentary")
    if commentary and block.sections[-1] is not commentary:
        yield Hit("Commentary must be the last section", commentary.line, fix="Move it to the end")


def _section_text(section: Section) -> str:
    return " ".join(item.text for item in section.items)


@rule("vision-one-sentence", Severity.WARNING, "Vision is more than one sentence")
def _vision_one_sentence(block: Block, options: CheckOptions) -> Iterator[Hit]:
    vision = block.section("vision")
    if vision is None:
        return
    sentences = [s for s in _SENTENCE_END.split(_section_text(vision)) if s.strip()]
    if len(vision.items) > 1 or len(sentences) > 1:
        yield Hit(
            "Vision should be one sentence",
            vision.line,
            vision.end_line,
            fix="Keep the one sentence that says what you want to do; move the rest to Priorities",
        )


@rule("measures-numeric", Severity.WARNING, "No measure has a number")
def _measures_numeric(block: Block, options: CheckOptions) -> Iterator[Hit]:
    measures = block.section("measures") or block.section("methods & measures")
    if measures and measures.items and not _NUMBER.search(_section_text(measures)):
        yield Hit(
            "no measure has a number in it",
            measures.line,
            measures.end_line,
            fix="Give measures a target: a count, a percentage or a date",
        )


@rule("section-empty", Severity.WARNING, "A section has no content")
def _section_empty(block: Block, options: CheckOptions) -> Iterator[Hit]:
    for section in block.sections:
        if not section.items:
            yield Hit(
                f"{section.label} section is empty", section.line, fix="Fill it in or remove it"
            )


NOT_IN_TOC = "page-not-in-toc"
RULES[NOT_IN_TOC] = Rule(
    NOT_IN_TOC, Severity.WARNING, "A page holding a plan is not in the table of contents", None
)

# Applied by `rapidvet check` with a rapid.yml at hand, from workflows.notes: the same
# finding the RAPID review gives.
RAPID_MISMATCH = "rapid-mismatch"
RULES[RAPID_MISMATCH] = Rule(
    RAPID_MISMATCH,
    Severity.ERROR,
    "The RAPID line gives a role to other holders than rapid.yml does",
    None,
)

TOO_LARGE = "page-too-large"
RULES[TOO_LARGE] = Rule(
    TOO_LARGE, Severity.ERROR, "A page is too large or too deeply nested to check", None
)
UNSAFE_PATH = "unsafe-path"
RULES[UNSAFE_PATH] = Rule(
    UNSAFE_PATH, Severity.ERROR, "A file's path cannot go into a URL safely; it was not read", None
)
