"""`rapidvet rules [ID]`: every rule with its default severity and why, or one rule with a
plan that breaks it and one that passes; `--format markdown` writes docs/rules.md."""

from __future__ import annotations

import argparse
import sys
from textwrap import indent

from rapidvet.app.checkout.formats import rule_url
from rapidvet.app.commands import exit_codes
from rapidvet.app.errors import UsageError
from rapidvet.checks.rule_docs import RULE_DOCS
from rapidvet.checks.rules import RULES, Rule
from rapidvet.workflows.config_errors import suggestion

FORMATS = ("text", "markdown")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "rules",
        help="list the rules, or explain one with examples",
        **exit_codes("printed"),
    )
    parser.add_argument("rule", nargs="?", metavar="ID", help="the rule to explain")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), or markdown: the page docs/rules.md is generated as",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.rule is not None and args.rule not in RULES:
        hint = suggestion(args.rule, RULES) or "; `rapidvet rules` lists them"
        raise UsageError(f"unknown rule {args.rule!r}{hint}")
    chosen = [RULES[args.rule]] if args.rule else list(RULES.values())
    if args.format == "markdown":
        text = markdown(chosen)
    elif args.rule:
        text = explained(RULES[args.rule])
    else:
        text = listed(chosen)
    sys.stdout.write(text + "\n")
    return 0


def listed(rules: list[Rule]) -> str:
    width = max(len(r.id) for r in rules)
    return "\n".join(f"{r.id:<{width}}  {r.severity:<7}  {RULE_DOCS[r.id].why}" for r in rules)


def explained(rule: Rule) -> str:
    doc = RULE_DOCS[rule.id]
    return "\n".join(
        [
            f"{rule.id} ({rule.severity} by default): {rule.summary}",
            "",
            doc.why,
            "",
            "Breaks it:",
            indent(doc.bad, "    "),
            "",
            "Passes:",
            indent(doc.good, "    "),
            "",
            f"More: {rule_url(rule.id)}",
        ]
    )


_PREAMBLE = """\
# Rules

What `rapidvet check` and the GitHub App look for in each plan. Every rule has an id and a
default severity; `checks.rules` in rapid.yml changes a rule's severity or turns it `off`.
`rapidvet rules ID` prints a rule's section in a terminal.

This page is generated from `checks/rule_docs.py` by
`rapidvet rules --format markdown > docs/rules.md`; a test fails when it is out of date.
"""


def markdown(rules: list[Rule]) -> str:
    parts = [_PREAMBLE, "| Rule | Default | Finds |", "|:---|:---|:---|"]
    parts += [f"| [`{r.id}`](#{r.id}) | {r.severity} | {r.summary} |" for r in rules]
    for r in rules:
        doc = RULE_DOCS[r.id]
        parts += [
            "",
            f"## {r.id}",
            "",
            f"{r.summary}. Default severity: {r.severity}.",
            "",
            doc.why,
            "",
            "Breaks it:",
            "",
            f"```markdown\n{doc.bad}\n```",
            "",
            "Passes:",
            "",
            f"```markdown\n{doc.good}\n```",
        ]
    return "\n".join(parts)
