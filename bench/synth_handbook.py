"""Write a deterministic synthetic handbook for the `rapidvet check` throughput benchmark.

The tree looks like a company handbook kept in Git: nested folders of markdown pages, a README.md
per folder and a SUMMARY.md table of contents that lists most pages. Three kinds of page:

- plan: one or more VPMOM/V2MOM blocks in the shapes of docs/architecture.md#plan-shapes
  (metadata table whose header row is the Period row, RAPID line, label forms `#### Vision`,
  `**Vision**`, `Vision`, `Vision:`, list markers `-`, `*`, `1.`), some with deliberate errors,
  some "(TBA)" placeholders;
- near-miss: pages that talk about VPMOM/V2MOM/RAPID/Vision (prose, review-order lists, link
  lists, a lone Vision heading) but hold no plan;
- ordinary: headings, prose, lists, tables, code fences, links, sometimes YAML front matter.
  A minority of them use words like "vision" or "priorities" in running prose, as real pages do,
  so that a keyword pre-filter is not handed an unrealistically easy tree.

All text is generated from the small word pools below. Every page draws from its own random
stream seeded with (seed, page index), so one page's content does not depend on the others.

    python bench/synth_handbook.py OUT_DIR [--pages N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import math
import posixpath
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

PLAN = "plan"
NEAR_MISS = "near-miss"
ORDINARY = "ordinary"
KINDS = (PLAN, NEAR_MISS, ORDINARY)

MANIFEST_NAME = ".synth-manifest.json"
SUMMARY_NAME = "SUMMARY.md"

# Sizes: most pages are small (median ~1.3 KB once written), a handful are huge, mean ~2 KB overall.
MEDIAN_PAGE_BYTES = 1000
PAGE_SIZE_SIGMA = 0.75
MIN_PAGE_BYTES = 200
MAX_PAGE_BYTES = 40_000
LARGE_PAGE_BYTES = (100_000, 300_000)
PAGES_PER_DIR = 12
MAX_DEPTH = 4
ORDINARY_KEYWORD_PROSE_RATIO = 0.12

SECTIONS = (
    "company",
    "operations",
    "sales",
    "marketing",
    "engineering",
    "product",
    "people",
    "finance",
    "legal",
    "support",
    "security",
    "customer-success",
)
TOPICS = (
    "onboarding",
    "offboarding",
    "travel",
    "expenses",
    "hiring",
    "interviews",
    "payroll",
    "benefits",
    "contracts",
    "renewals",
    "forecasting",
    "pipeline",
    "pricing",
    "licensing",
    "releases",
    "incidents",
    "on-call",
    "escalations",
    "handoffs",
    "tooling",
    "laptops",
    "accounts",
    "vendors",
    "procurement",
    "budgets",
    "audits",
    "compliance",
    "privacy",
    "events",
    "webinars",
    "newsletters",
    "branding",
    "partners",
    "resellers",
    "training",
    "mentoring",
    "reviews",
    "feedback",
    "meetings",
    "cadence",
    "reporting",
    "dashboards",
    "analytics",
    "roadmap",
    "research",
    "design",
    "documentation",
    "localization",
    "accessibility",
    "community",
    "moderation",
    "tickets",
    "backups",
    "access",
    "holidays",
    "leave",
    "relocation",
    "equipment",
    "office",
    "invoices",
)
QUALIFIERS = (
    "guide",
    "process",
    "policy",
    "checklist",
    "faq",
    "playbook",
    "overview",
    "templates",
    "calendar",
    "handbook",
    "runbook",
    "notes",
)
TEAMS = (
    "Sales",
    "Marketing",
    "Finance",
    "Engineering",
    "Product",
    "People",
    "Support",
    "Legal",
    "Security",
    "Business Operations",
    "Customer Success",
    "Community",
    "MLT",
    "Staff",
    "R&D",
    "Partnerships",
)
INITIALS = ("IJT", "AS", "JD", "KLM", "RB", "TW", "MN", "OP", "CG", "EH", "LV", "DK")
HANDLES = ("@jane", "@omar", "@li-wei", "@priya", "@sam", "@org/ops-leads", "@org/finance")
GROUPS = ("MLT", "Staff", "Finance", "Sales Leads", "Ops")

SUBJECTS = (
    "The team",
    "Each owner",
    "The on-call engineer",
    "Every new hire",
    "The account manager",
    "Our finance partner",
    "The reviewer",
    "A project lead",
    "The support rotation",
    "Whoever opens the ticket",
    "The hiring manager",
    "The release captain",
    "Each department",
    "The quarterly planning group",
)
VERBS = (
    "updates",
    "reviews",
    "documents",
    "tracks",
    "shares",
    "confirms",
    "archives",
    "schedules",
    "approves",
    "summarizes",
    "publishes",
    "reconciles",
    "escalates",
    "records",
    "prepares",
)
OBJECTS = (
    "the weekly status report",
    "open renewals",
    "the onboarding checklist",
    "customer escalations",
    "the travel budget",
    "pending invoices",
    "the release notes",
    "access requests",
    "the hiring plan",
    "vendor contracts",
    "the incident timeline",
    "meeting notes",
    "the pricing sheet",
    "training material",
    "the forecast spreadsheet",
    "support tickets",
    "the team calendar",
    "expense reports",
)
TAILS = (
    "before the end of each month",
    "in the shared channel",
    "within two business days",
    "using the standard template",
    "after every customer call",
    "so nobody has to ask twice",
    "and links the result in the tracker",
    "on the first Monday of the quarter",
    "with a short written summary",
    "once the contract is signed",
    "before anyone goes on leave",
    "and tags the owner for follow-up",
    "at least once per sprint",
    "so the handoff stays smooth",
)
# Running prose that ordinary pages sometimes contain: these words are common in real handbooks
# but say nothing about a plan.
KEYWORD_PROSE = (
    "Our product vision is easier to follow when examples come first.",
    "Team priorities change often, so check the tracker before starting new work.",
    "We prefer methods that keep the paperwork small.",
    "Security measures are listed on the access page.",
    "The biggest obstacle for new hires is finding the right channel.",
    "Set priorities with your manager during the first week.",
)
LANGUAGES = ("bash", "yaml", "python", "json", "text", "")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
SECTION_NAMES = ("Vision", "Priorities", "Methods", "Obstacles", "Measures")
PLAN_FLAWS = (
    "missing-section",
    "two-deciders",
    "bad-date",
    "tba-vetted",
    "vision-sentences",
    "measures-no-number",
    "commentary-not-last",
    "out-of-order",
    "empty-section",
    "no-metadata",
)
PLAN_ITEMS = {
    "Priorities": (
        "Hire the best people for each function, remote first",
        "Document how we work, openly and early",
        "Shorten time to value for every new customer",
        "Keep the product easy to adopt and easy to operate",
        "Build processes that still work when someone is on vacation",
        "Grow the partner channel in two new regions",
        "Make renewals predictable",
    ),
    "Methods": (
        "Run a weekly pipeline review with every regional lead",
        "Publish onboarding guides for each customer segment",
        "Automate the monthly close checklist",
        "(Sales Ops) Move all forecasts into one shared dashboard",
        "Pair every new hire with a mentor for 90 days",
        "Ship two self-service trial improvements per quarter",
        "Operate efficiently ~~and fund growth~~",
        "(SA) Record a demo for each top integration",
    ),
    "Obstacles": (
        "Too few people on support during peak weeks",
        "Missing tooling for automated reporting",
        "No single owner for partner onboarding",
        "Metrics are defined differently by each team",
        "Long procurement cycles at large accounts",
        "Hiring pipeline depends on a single recruiter",
    ),
    "Measures": (
        "Net revenue retention above 110%",
        "Time to first value under 14 days",
        "Support first response within 4 business hours",
        "At least 3 published customer references per region",
        "Employee engagement score of 80 or higher",
        "Close the books within 5 business days",
        "80% of SOPs document RAPID sign-off within the last 12 months",
    ),
    "Measures-no-number": (
        "Customers renew without escalation",
        "Everyone knows where the plan lives",
        "Forecasts match the final numbers closely",
    ),
}
VISIONS = (
    "Be the most trusted self-hosted collaboration platform for regulated teams",
    "Make every customer successful within their first month",
    "Run a company where any process can be followed by a new hire on day one",
    "Turn every support conversation into a reason to renew",
    "Close every quarter on time with numbers everyone believes",
)


@dataclass(frozen=True)
class Mix:
    """Share of pages of each kind; the rest are ordinary pages."""

    plan: float = 0.05
    near_miss: float = 0.10
    plan_errors: float = 0.35  # share of plan blocks that carry at least one deliberate flaw
    large: float = 0.002  # share of pages of 100-300 KB
    unlisted: float = 0.05  # share of pages missing from SUMMARY.md

    def counts(self, pages: int) -> dict[str, int]:
        plan = round(pages * self.plan)
        near = min(round(pages * self.near_miss), pages - plan)
        return {PLAN: plan, NEAR_MISS: near, ORDINARY: pages - plan - near}


@dataclass(frozen=True)
class PageSpec:
    path: str  # posix path relative to the tree root
    title: str
    kind: str
    target_bytes: int
    listed: bool


@dataclass
class PageResult:
    path: str
    kind: str
    size: int
    plan_blocks: int = 0
    placeholder_blocks: int = 0
    flaws: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- small text helpers


def title_of(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}."


def paragraph(rng: random.Random, sentences: int | None = None) -> str:
    count = sentences if sentences is not None else rng.randint(2, 6)
    return " ".join(sentence(rng) for _ in range(count))


def link_to(rng: random.Random, here: str, others: Sequence[str]) -> str:
    target = rng.choice(others)
    rel = posixpath.relpath(target, posixpath.dirname(here) or ".")
    return f"[{title_of(posixpath.basename(target)[:-3])}]({rel})"


def bullets(rng: random.Random, items: Sequence[str], marker: str) -> str:
    return "\n".join(f"{marker} {item}" for item in items)


def date_text(year: int, month: int, day: int, style: str) -> str:
    if style == "iso":
        return f"{year:04d}-{month:02d}-{day:02d}"
    if style == "short":
        return f"{MONTHS[month - 1][:3]} {day}, {year}"
    return f"{MONTHS[month - 1]} {day}, {year}"


def table_cell(text: str, rng: random.Random) -> str:
    # Real tables are spaced inconsistently: `|Period|`, `| RAPID |`, `|Vetted date |`.
    return rng.choice((f"{text}", f" {text} ", f" {text}", f"{text} "))


# ------------------------------------------------------------------ ordinary chunks of a page


def chunk_heading(rng: random.Random, here: str, others: Sequence[str]) -> str:
    words = rng.sample(TOPICS, 2)
    return f"{'#' * rng.randint(2, 4)} {title_of(words[0])} and {words[1]}\n\n{paragraph(rng)}"


def chunk_paragraph(rng: random.Random, here: str, others: Sequence[str]) -> str:
    text = paragraph(rng)
    if others and rng.random() < 0.5:
        text += f" See {link_to(rng, here, others)} for details."
    return text


def chunk_list(rng: random.Random, here: str, others: Sequence[str]) -> str:
    marker = rng.choice(("-", "*", "1."))
    items = [sentence(rng) for _ in range(rng.randint(2, 7))]
    if rng.random() < 0.3:  # nested sub-bullets
        items[0] += "\n" + bullets(rng, [sentence(rng) for _ in range(2)], "  -")
    return bullets(rng, items, marker)


def chunk_link_list(rng: random.Random, here: str, others: Sequence[str]) -> str:
    if not others:
        return chunk_list(rng, here, others)
    return bullets(rng, [link_to(rng, here, others) for _ in range(rng.randint(2, 6))], "*")


def chunk_table(rng: random.Random, here: str, others: Sequence[str]) -> str:
    cols = rng.randint(2, 5)
    header = [title_of(t) for t in rng.sample(TOPICS, cols)]
    rows = [
        [rng.choice((rng.choice(OBJECTS), str(rng.randint(1, 500)), "yes", "no")) for _ in header]
        for _ in range(rng.randint(2, 10))
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def chunk_code(rng: random.Random, here: str, others: Sequence[str]) -> str:
    lang = rng.choice(LANGUAGES)
    verbs = ("export", "set", "run")
    body = [
        f"{rng.choice(verbs)} {rng.choice(TOPICS).upper()}_{i}={rng.randint(1, 999)}"
        for i in range(rng.randint(2, 8))
    ]
    return f"```{lang}\n" + "\n".join(body) + "\n```"


def chunk_quote(rng: random.Random, here: str, others: Sequence[str]) -> str:
    return "> **Note:** " + paragraph(rng, 2)


def chunk_details(rng: random.Random, here: str, others: Sequence[str]) -> str:
    summary = title_of(rng.choice(TOPICS))
    return f"<details>\n<summary>{summary}</summary>\n\n{paragraph(rng)}\n\n</details>"


Chunk = Callable[[random.Random, str, Sequence[str]], str]
ORDINARY_CHUNKS: tuple[tuple[Chunk, int], ...] = (
    (chunk_heading, 5),
    (chunk_paragraph, 8),
    (chunk_list, 5),
    (chunk_link_list, 2),
    (chunk_table, 2),
    (chunk_code, 2),
    (chunk_quote, 1),
    (chunk_details, 1),
)


CHUNK_FUNCS: tuple[Chunk, ...] = tuple(f for f, _ in ORDINARY_CHUNKS)
CHUNK_WEIGHTS: tuple[int, ...] = tuple(w for _, w in ORDINARY_CHUNKS)


def ordinary_chunk(rng: random.Random, here: str, others: Sequence[str]) -> str:
    chunk: Chunk = rng.choices(CHUNK_FUNCS, CHUNK_WEIGHTS)[0]
    return chunk(rng, here, others)


def filler_chunks(rng: random.Random, here: str, others: Sequence[str], budget: int) -> list[str]:
    chunks: list[str] = []
    used = 0
    while used < budget:
        chunk = ordinary_chunk(rng, here, others)
        chunks.append(chunk)
        used += len(chunk) + 2
    return chunks


def front_matter(rng: random.Random, title: str) -> str:
    lines = ["---", f"title: {title}"]
    if rng.random() < 0.5:
        lines.append(f"description: {rng.choice(('10% complete', '50% complete', 'Draft'))}")
    if rng.random() < 0.3:
        lines.append(f'owner: "{rng.choice(HANDLES)}"')
    lines.append("---")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ plan blocks


def rapid_line(rng: random.Random, two_deciders: bool) -> str:
    pool = list(INITIALS[:6]) + list(GROUPS) + list(HANDLES)
    holders = rng.sample(pool, rng.randint(2, 4))
    deciders = {0, 1} if two_deciders else {0}
    parts = []
    for i, holder in enumerate(holders):
        roles = rng.sample(("R", "A", "P", "I"), rng.randint(1 if i in deciders else 2, 4))
        if i in deciders:
            roles.append("D")
        roles.sort(key="RAPID".index)
        sep = rng.choice((", ", ", ", " & ", " and ", " "))
        joined = sep.join(roles)
        if len(roles) > 2 and rng.random() < 0.5:  # `R, A, P & I`
            joined = ", ".join(roles[:-1]) + " & " + roles[-1]
        space = " " if rng.random() < 0.15 else ""
        parts.append(f"{holder}{space}({joined})")
    rng.shuffle(parts)
    return ", ".join(parts)


def metadata_table(rng: random.Random, year: int, flaws: set[str]) -> str:
    style = rng.choice(("long", "long", "short", "iso"))
    start_month = rng.choice((2, 5, 8))
    start = date_text(year - 1, start_month, 1, style)
    end = date_text(year, 1, 31, style)
    vetted = date_text(year - 1, start_month, rng.randint(1, 28), style)
    if "bad-date" in flaws:
        vetted = rng.choice(
            (f"{MONTHS[start_month - 1]} 35, {year - 1}", "sometime in Q2", "13/13/19")
        )
    if "tba-vetted" in flaws:
        vetted = rng.choice(("TBD", "(TBA)"))
    previous = date_text(year - 2, start_month, 1, style)
    sha = f"{rng.getrandbits(160):040x}"
    rows = [
        ("Period", f"{start} to {end}"),
        (":---", ":---"),
        ("RAPID", rapid_line(rng, "two-deciders" in flaws)),
        ("Vetted date", vetted),
        (
            "Previous versions",
            f"[{previous}](https://github.com/example-org/handbook/blob/{sha}/plans.md)",
        ),
    ]
    if rng.random() < 0.3:
        rows.append(("Internal version", "https://example.com/wiki/plans"))
    trailing = " " if rng.random() < 0.3 else ""
    return "\n".join(
        f"|{table_cell(k, rng)}|{table_cell(v, rng)}|{trailing}" if k != ":---" else "|:---|:---|"
        for k, v in rows
    )


def section_label(name: str, form: str, level: int) -> str:
    if form == "heading":
        return f"{'#' * level} {name}"
    if form == "bold":
        return f"**{name}**"
    if form == "colon":
        return f"{name}:"
    return name


def section_items(rng: random.Random, name: str, flaws: set[str]) -> list[str]:
    if name == "Vision":
        first = rng.choice(VISIONS)
        if "vision-sentences" in flaws:
            return [f"{first}. {rng.choice(VISIONS)}."]
        return [first]
    pool_name = "Priorities" if name == "Values" else name
    if name == "Measures" and "measures-no-number" in flaws:
        pool_name = "Measures-no-number"
    pool = PLAN_ITEMS[pool_name]
    return rng.sample(pool, rng.randint(2, min(5, len(pool))))


def plan_sections(rng: random.Random, kind: str, flaws: set[str]) -> list[str]:
    second = "Values" if kind == "V2MOM" or rng.random() < 0.1 else "Priorities"
    names = ["Vision", second, "Methods", "Obstacles", "Measures"]
    if "missing-section" in flaws:
        names.remove(rng.choice(names[1:]))
    if "out-of-order" in flaws:
        i = rng.randrange(len(names) - 1)
        names[i], names[i + 1] = names[i + 1], names[i]
    if rng.random() < 0.25:
        names.append("Commentary")
    if "commentary-not-last" in flaws:
        names.insert(rng.randrange(1, len(names)), "Commentary")
        if names[-1] == "Commentary" and names.count("Commentary") > 1:
            names.pop()
    return names


def plan_block(rng: random.Random, flaws: set[str]) -> str:
    kind = rng.choice(("VPMOM", "VPMOM", "VPMOM", "V2MOM"))
    year = rng.randint(2019, 2026)
    level = rng.choices((1, 2, 3, 4), (1, 5, 3, 2))[0]
    suffix = rng.choice(("", "", "", "", " (TBA)", " \\(TBA\\)", " "))
    title = f"{'#' * level} FY{year % 100:02d} {rng.choice(TEAMS)} {kind}{suffix}"
    parts = [title]
    if rng.random() < 0.4:
        parts.append(
            f"This section holds the public part of the FY{year % 100:02d} plan. {sentence(rng)}"
        )
    if "no-metadata" not in flaws and rng.random() < 0.9:
        parts.append(metadata_table(rng, year, flaws))
    form = rng.choice(("heading", "bold", "plain", "plain", "colon"))
    marker = rng.choice(("-", "-", "*", "1."))
    empty = rng.choice(SECTION_NAMES[1:]) if "empty-section" in flaws else None
    for name in plan_sections(rng, kind, flaws):
        label = section_label(name, form, min(level + 2, 6))
        if name == "Commentary":
            parts.append(f"{label}\n{paragraph(rng, 2)}")
        elif name == empty:
            parts.append(label)
        else:
            parts.append(f"{label}\n{bullets(rng, section_items(rng, name, flaws), marker)}")
    return "\n\n".join(parts)


def placeholder_block(rng: random.Random) -> str:
    team = rng.choice(TEAMS)
    year = rng.randint(19, 26)
    kind = rng.choice(("VPMOM", "V2MOM"))
    heading = rng.choice(
        (
            f"### FY{year} {team} {kind} (TBA)",
            f"## FY{year} {team} {kind} \\(TBA\\)",
            f"**FY{year} {team} {kind} \\(TBA\\)**",
            f"#### QBR {kind}",
        )
    )
    body = rng.choice(
        (
            f"New {kind} to be added. {kind} in need of update: [draft](https://example.com/draft)",
            "TBD",
            f"TBD - {rng.choice(INITIALS)} owns updating this.",
        )
    )
    return f"{heading}\n\n{body}"


def choose_flaws(rng: random.Random, error_share: float) -> set[str]:
    if rng.random() >= error_share:
        return set()
    return set(rng.sample(PLAN_FLAWS, rng.choice((1, 1, 2))))


# ---------------------------------------------------------------------------- near-miss chunks


def near_review_order(rng: random.Random) -> str:
    order = list(SECTION_NAMES)
    if rng.random() < 0.6:
        order = ["Measures", "Priorities", "Vision", "Obstacles", "Methods"]
    intro = rng.choice(
        (
            "Use the following order to review VPMOMs:",
            "Review each V2MOM in this order:",
            "When the MLT reviews a VPMOM, go through it as follows:",
        )
    )
    return f"{intro}\n\n{bullets(rng, order, rng.choice(('-', '*', '1.')))}"


def near_prose(rng: random.Random) -> str:
    mention = rng.choice(
        (
            "Each department drafts a VPMOM before the planning offsite.",
            "The V2MOM is reviewed every quarter by the leadership team.",
            "Decisions follow RAPID: one person decides, others recommend, agree or give input.",
            "Our Vision statement is kept short so that everyone can repeat it.",
            "Ask the Decider named in the RAPID line before changing a plan.",
        )
    )
    return f"{sentence(rng)} {mention} {sentence(rng)}"


def near_link_list(rng: random.Random) -> str:
    items = [
        f"[FY{rng.randint(19, 26)} {rng.choice(TEAMS)} {rng.choice(('VPMOM', 'V2MOM'))}]"
        f"(../{rng.choice(SECTIONS)}/README.md): {rng.choice(OBJECTS)}"
        for _ in range(rng.randint(2, 5))
    ]
    return f"{'#' * rng.randint(2, 3)} Key info\n\n{bullets(rng, items, rng.choice(('-', '*')))}"


def near_rapid_explainer(rng: random.Random) -> str:
    roles = (
        "**Recommend**: proposes the plan and gathers input",
        "**Agree**: must sign off before the plan moves on",
        "**Perform**: carries out the decision",
        "**Input**: is consulted on facts and feasibility",
        "**Decide**: makes the final call",
    )
    return f"## How RAPID works\n\n{paragraph(rng, 2)}\n\n{bullets(rng, roles, '-')}"


def near_vision_heading(rng: random.Random) -> str:
    return f"## Vision\n\n{paragraph(rng, 3)}"


def near_metrics_stub(rng: random.Random) -> str:
    return f"## V2MOM Metrics\n\nSee the dashboard for the current numbers. {sentence(rng)}"


NEAR_CHUNKS: tuple[Callable[[random.Random], str], ...] = (
    near_review_order,
    near_prose,
    near_link_list,
    near_rapid_explainer,
    near_vision_heading,
    near_metrics_stub,
)


# ----------------------------------------------------------------------------------- pages


def page_special_chunks(
    rng: random.Random, kind: str, error_share: float, result: PageResult
) -> list[str]:
    if kind == PLAN:
        chunks = []
        for _ in range(rng.choices((1, 2, 3), (75, 18, 7))[0]):
            flaws = choose_flaws(rng, error_share)
            result.flaws.extend(sorted(flaws))
            result.plan_blocks += 1
            chunks.append(plan_block(rng, flaws))
        for _ in range(rng.choices((0, 1, 2), (70, 20, 10))[0]):
            result.placeholder_blocks += 1
            chunks.append(placeholder_block(rng))
        rng.shuffle(chunks)
        return chunks
    if kind == NEAR_MISS:
        return [rng.choice(NEAR_CHUNKS)(rng) for _ in range(rng.randint(1, 3))]
    if rng.random() < ORDINARY_KEYWORD_PROSE_RATIO:
        return [f"{sentence(rng)} {rng.choice(KEYWORD_PROSE)}"]
    return []


def page_text(
    rng: random.Random, spec: PageSpec, others: Sequence[str], mix: Mix
) -> tuple[str, PageResult]:
    result = PageResult(path=spec.path, kind=spec.kind, size=0)
    head = []
    if rng.random() < 0.25:
        head.append(front_matter(rng, spec.title))
    head.append(f"# {spec.title}")
    head.append(paragraph(rng, rng.randint(1, 3)))
    special = page_special_chunks(rng, spec.kind, mix.plan_errors, result)
    used = sum(len(c) + 2 for c in head + special)
    filler = filler_chunks(rng, spec.path, others, spec.target_bytes - used)
    # Put the special chunks at random places among the filler, keeping their order.
    body = list(filler)
    for chunk in special:
        body.insert(rng.randint(0, len(body)), chunk)
    text = "\n\n".join(head + body) + "\n"
    result.size = len(text.encode())
    return text, result


def page_size(rng: random.Random) -> int:
    size = rng.lognormvariate(math.log(MEDIAN_PAGE_BYTES), PAGE_SIZE_SIGMA)
    return int(min(max(size, MIN_PAGE_BYTES), MAX_PAGE_BYTES))


# ------------------------------------------------------------------------------ the tree


def folder_tree(rng: random.Random, pages: int) -> list[str]:
    """Folders (posix, relative) in creation order; the root "" first."""
    wanted = max(1, pages // PAGES_PER_DIR)
    dirs = [""]
    for section in SECTIONS[: max(1, min(len(SECTIONS), wanted - 1))]:
        dirs.append(section)
    seen = set(dirs)
    while len(dirs) < wanted:
        parent = rng.choice(dirs[1:] or dirs)
        if parent.count("/") + 1 >= MAX_DEPTH:
            continue
        child = posixpath.join(parent, rng.choice(TOPICS))
        if child not in seen:
            seen.add(child)
            dirs.append(child)
    return dirs


def page_paths(rng: random.Random, pages: int) -> list[str]:
    dirs = folder_tree(rng, pages)
    paths = [posixpath.join(d, "README.md") for d in dirs][:pages]
    taken = set(paths)
    while len(paths) < pages:
        folder = rng.choice(dirs)
        slug = f"{rng.choice(TOPICS)}-{rng.choice(QUALIFIERS)}"
        path = posixpath.join(folder, f"{slug}.md")
        n = 2
        while path in taken:
            path = posixpath.join(folder, f"{slug}-{n}.md")
            n += 1
        taken.add(path)
        paths.append(path)
    return paths


def page_title(path: str) -> str:
    base = posixpath.basename(path)[:-3]
    if base == "README":
        folder = posixpath.basename(posixpath.dirname(path))
        return title_of(folder) if folder else "Company handbook"
    return title_of(base)


def page_specs(pages: int, seed: int, mix: Mix) -> list[PageSpec]:
    rng = random.Random(f"synth-handbook:{seed}")
    paths = page_paths(rng, pages)
    counts = mix.counts(pages)
    kinds = [k for k in KINDS for _ in range(counts[k])]
    rng.shuffle(kinds)
    sizes = [page_size(rng) for _ in range(pages)]
    # A few huge pages: one plan page and one near-miss page among them when there are any,
    # since a checker's worst case is a huge page it must fully parse.
    large = round(pages * mix.large)
    by_kind = {k: [i for i, kk in enumerate(kinds) if kk == k] for k in KINDS}
    picks: list[int] = []
    for k in (PLAN, NEAR_MISS):
        if by_kind[k] and len(picks) < large:
            picks.append(rng.choice(by_kind[k]))
    rest = [i for i in range(pages) if i not in set(picks)]
    picks += rng.sample(rest, max(0, large - len(picks)))
    for i in picks:
        sizes[i] = rng.randint(*LARGE_PAGE_BYTES)
    return [
        PageSpec(
            path=paths[i],
            title=page_title(paths[i]),
            kind=kinds[i],
            target_bytes=sizes[i],
            listed=rng.random() >= mix.unlisted,
        )
        for i in range(pages)
    ]


def summary_text(specs: Sequence[PageSpec]) -> str:
    """A GitBook-style SUMMARY.md: one `##` part per top folder, nested bullets by depth."""
    lines = ["# Table of contents", ""]
    ordered = sorted(specs, key=lambda s: summary_sort_key(s.path))
    part = None
    for spec in ordered:
        if not spec.listed:
            continue
        top = spec.path.split("/")[0] if "/" in spec.path else ""
        if top != part:
            part = top
            if top:
                lines += ["", f"## {title_of(top)}", ""]
        # A folder's README is the parent bullet of the folder's pages and sub-folders.
        level = spec.path.count("/") - (posixpath.basename(spec.path) == "README.md")
        indent = "  " * max(0, level)
        lines.append(f"{indent}* [{spec.title}]({spec.path})")
    return "\n".join(lines) + "\n"


def summary_sort_key(path: str) -> tuple[str, ...]:
    # A folder's README comes first, then its pages, then its sub-folders.
    parts = path.split("/")
    folder, name = parts[:-1], parts[-1]
    return (*folder, "0" if name == "README.md" else "1" + name)


def write_handbook(
    out: Path, pages: int = 10_000, seed: int = 0, mix: Mix | None = None
) -> dict[str, object]:
    """Write the tree under `out` and return its manifest (also saved as .synth-manifest.json)."""
    mix = mix or Mix()
    specs = page_specs(pages, seed, mix)
    paths = [s.path for s in specs]
    results = []
    for index, spec in enumerate(specs):
        rng = random.Random(f"synth-page:{seed}:{index}")
        others = [paths[rng.randrange(len(paths))] for _ in range(8)]
        text, result = page_text(rng, spec, others, mix)
        target = out / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
        results.append(result)
    summary = summary_text(specs)
    (out / SUMMARY_NAME).write_text(summary, encoding="utf-8", newline="\n")
    manifest = manifest_of(
        results, pages, seed, mix, len(summary.encode()), sum(s.listed for s in specs)
    )
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def manifest_of(
    results: Sequence[PageResult], pages: int, seed: int, mix: Mix, summary_bytes: int, listed: int
) -> dict[str, object]:
    return {
        "pages": pages,
        "seed": seed,
        "mix": asdict(mix),
        "kinds": dict(Counter(r.kind for r in results)),
        "bytes": sum(r.size for r in results) + summary_bytes,
        "md_files": len(results) + 1,
        "listed_in_summary": listed,
        "plan_blocks": sum(r.plan_blocks for r in results),
        "placeholder_blocks": sum(r.placeholder_blocks for r in results),
        "flaws": dict(sorted(Counter(f for r in results for f in r.flaws).items())),
        "largest": sorted(((r.size, r.path, r.kind) for r in results), reverse=True)[:5],
        "plan_pages": sorted(r.path for r in results if r.kind == PLAN),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the handbook into")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plan-ratio", type=float, default=Mix.plan)
    parser.add_argument("--near-miss-ratio", type=float, default=Mix.near_miss)
    parser.add_argument("--plan-error-ratio", type=float, default=Mix.plan_errors)
    parser.add_argument("--large-ratio", type=float, default=Mix.large)
    parser.add_argument("--unlisted-ratio", type=float, default=Mix.unlisted)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.pages < 1 or not 0 <= args.plan_ratio + args.near_miss_ratio <= 1:
        print(
            "synth_handbook: need --pages >= 1 and plan + near-miss ratios within 0..1",
            file=sys.stderr,
        )
        return 2
    mix = Mix(
        args.plan_ratio,
        args.near_miss_ratio,
        args.plan_error_ratio,
        args.large_ratio,
        args.unlisted_ratio,
    )
    manifest = write_handbook(args.out, args.pages, args.seed, mix)
    shown = {k: v for k, v in manifest.items() if k != "plan_pages"}
    print(json.dumps(shown, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
