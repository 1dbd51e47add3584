"""What each rule in `checks.rules.RULES` is for, with a plan that breaks it and one that
does not: the text of `rapidvet rules ID` and of docs/rules.md, keyed by rule id.

Kept apart from the rules' code so their wording can change without touching a check.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleDoc:
    """`why` in one line; `bad` and `good` as markdown a handbook page could hold."""

    why: str
    bad: str
    good: str


def _table(
    period: str = "Feb 1, 2026 to Jan 31, 2027",
    rapid: str = "@ops-lead(D), @acme/ops(R, A, P & I)",
    vetted: str = "Feb 3, 2026",
) -> str:
    """A plan's metadata table, with the rows given."""
    return (
        f"| Period | {period} |\n|:---|:---|\n| RAPID | {rapid} |\n"
        f"| Vetted date | {vetted} |\n| Previous versions | |"
    )


_META = _table()
_SECTIONS = (
    "Vision\n- Run on documented processes.\n\nPriorities\n- Documented\n\n"
    "Methods\n- Review yearly\n\nObstacles\n- Time\n\nMeasures\n- 80% of plans vetted"
)


def _plan(table: str = _META, sections: str = _SECTIONS, title: str = "FY27 Ops VPMOM") -> str:
    return f"## {title}\n\n{table}\n\n{sections}"


RULE_DOCS: dict[str, RuleDoc] = {
    "placeholder": RuleDoc(
        "A heading that promises a plan nobody has written yet reads as if the plan existed.",
        "## FY27 Support VPMOM (TBA)\n\nTo be added.",
        _plan(title="FY27 Support VPMOM"),
    ),
    "section-missing": RuleDoc(
        "Each of Vision, Priorities, Methods, Obstacles and Measures answers a question the "
        "deciders need answered.",
        _plan(sections=_SECTIONS.replace("Obstacles\n- Time\n\n", "")),
        _plan(),
    ),
    "section-order": RuleDoc(
        "Readers skim plans in the kind's order; a moved section is missed.",
        _plan(
            sections="Vision\n- Run on documented processes.\n\nMethods\n- Review yearly\n\n"
            "Priorities\n- Documented\n\nObstacles\n- Time\n\nMeasures\n- 80% of plans vetted"
        ),
        _plan(),
    ),
    "values-for-priorities": RuleDoc(
        "VPMOM plans rank Priorities; Values belong to V2MOM plans, and the two mean different "
        "things.",
        _plan(sections=_SECTIONS.replace("Priorities", "Values")),
        _plan(),
    ),
    "metadata-missing": RuleDoc(
        "Without the table nobody can tell the plan's period, who decides, or when it was vetted.",
        _plan(table="Our plan for the year."),
        _plan(),
    ),
    "metadata-row-missing": RuleDoc(
        "Each row of the table is read by people and by rapidvet; a missing one leaves a "
        "question open.",
        _plan(table=_META.replace("| Vetted date | Feb 3, 2026 |\n", "")),
        _plan(),
    ),
    "date-unparseable": RuleDoc(
        "A date nobody can read cannot say whether the plan is current.",
        _plan(table=_table(vetted="early February")),
        _plan(),
    ),
    "vetted-outside-period": RuleDoc(
        "A plan vetted outside its own period was vetted for another year, or its dates are wrong.",
        _plan(table=_table(vetted="Mar 1, 2027")),
        _plan(),
    ),
    "plan-stale": RuleDoc(
        "A plan nobody has re-vetted for longer than stale_after_days (365 by default) may no "
        "longer be what the team does.",
        _plan(table=_table(vetted="Feb 3, 2019")),
        _plan(),
    ),
    "vetted-in-future": RuleDoc(
        "A plan cannot have been vetted on a day that has not come yet: the date is a typo.",
        _plan(table=_table(vetted="Feb 3, 2099")),
        _plan(),
    ),
    "rapid-unparseable": RuleDoc(
        "rapidvet asks the people on the RAPID line for reviews; it has to be able to read it.",
        _plan(table=_table(rapid="ops lead decides, ops team recommends")),
        _plan(),
    ),
    "rapid-no-decider": RuleDoc(
        "Every plan needs exactly one Decider who approves it.",
        _plan(table=_table(rapid="@acme/ops(R, A, P & I)")),
        _plan(),
    ),
    "rapid-two-deciders": RuleDoc(
        "Two Deciders means nobody decides: D belongs to one holder.",
        _plan(table=_table(rapid="@ops-lead(D), @cfo(D), @acme/ops(R, A, P & I)")),
        _plan(),
    ),
    "rapid-unknown-role": RuleDoc(
        "RAPID has five roles, R, A, P, I and D; another letter is a typo nobody can act on.",
        _plan(table=_table(rapid="@ops-lead(D), @acme/ops(R, A, X)")),
        _plan(),
    ),
    "rapid-duplicate-holder": RuleDoc(
        "A holder listed twice makes readers wonder which roles they hold.",
        _plan(table=_table(rapid="@ops-lead(D), @ops-lead(A), @acme/ops(R, P & I)")),
        _plan(table=_table(rapid="@ops-lead(D, A), @acme/ops(R, P & I)")),
    ),
    "rapid-unknown-alias": RuleDoc(
        "rapidvet can only ask a holder for a review when it knows their GitHub handle: write "
        "@login, or define the initials under aliases in rapid.yml.",
        _plan(table=_table(rapid="XYZ(D), @acme/ops(R, A, P & I)")),
        _plan(),
    ),
    "rapid-mismatch": RuleDoc(
        "Reviews are asked of the holders rapid.yml names; a RAPID line naming others tells "
        "readers a different story (checked when policy.doc_rapid_must_match is on).",
        "rapid.yml gives D on operations/ to @ops-lead; the plan's RAPID line reads "
        "@cfo(D), @acme/ops(R, A, P & I).",
        "The RAPID line reads @ops-lead(D), @acme/ops(R, A, P & I), as rapid.yml says.",
    ),
    "too-long": RuleDoc(
        "A plan fits on one page (one_page_lines, 60 by default) so deciders read all of it; "
        "detail goes into a Commentary section, which is not counted.",
        _plan(sections=_SECTIONS.replace("- Review yearly", "\n".join(["- A method"] * 60))),
        _plan(sections=_SECTIONS + "\n\nCommentary\n" + "\n".join(["- Detail"] * 60)),
    ),
    "commentary-not-last": RuleDoc(
        "Commentary is background; placed between sections it splits the plan.",
        _plan(sections=_SECTIONS.replace("Obstacles", "Commentary\n- Background\n\nObstacles")),
        _plan(sections=_SECTIONS + "\n\nCommentary\n- Background"),
    ),
    "vision-one-sentence": RuleDoc(
        "The Vision is the one sentence everyone remembers; more sentences belong in Priorities.",
        _plan(
            sections=_SECTIONS.replace(
                "- Run on documented processes.", "- Run on documented processes. Hire more. Grow."
            )
        ),
        _plan(),
    ),
    "measures-numeric": RuleDoc(
        "A measure without a number cannot tell anyone whether the plan worked.",
        _plan(sections=_SECTIONS.replace("- 80% of plans vetted", "- More plans vetted")),
        _plan(),
    ),
    "section-empty": RuleDoc(
        "An empty section looks answered at a glance but says nothing.",
        _plan(sections=_SECTIONS.replace("Obstacles\n- Time", "Obstacles")),
        _plan(),
    ),
    "page-not-in-toc": RuleDoc(
        "A plan that the table of contents (SUMMARY.md or a Sphinx toctree) does not list is "
        "hard to find.",
        "operations/travel.md holds a plan; SUMMARY.md links operations/README.md only.",
        "SUMMARY.md links operations/travel.md too, under Operations.",
    ),
    "page-too-large": RuleDoc(
        "A page beyond checks.max_page_bytes (1 MB by default), or nested too deeply, would "
        "take unbounded time to parse, so it is reported instead of checked.",
        "A 5 MB page of pasted exports holding a plan.",
        "The plan on a page of its own; the exports linked from it.",
    ),
    "unsafe-path": RuleDoc(
        "A file whose path cannot go into a GitHub URL safely (control characters, `..`, an "
        "over-long name) is not read, so it cannot redirect a request.",
        "operations/..%2F..%2Fsecrets.md",
        "operations/travel.md",
    ),
}
