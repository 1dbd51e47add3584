"""The values a fix suggests: taken from the page where it tells them, else <placeholders>.

Never a real-looking example ("IJT(D), MLT(...)", "May 1, 2019 to ..."): pasted from a fix,
it reads as a plan's own value and gets committed. A placeholder committed as it is fails
date-unparseable or rapid-unparseable instead.
"""

from __future__ import annotations

from rapidvet.checks.rapid_line import TEMPLATE as RAPID_TEMPLATE

DATE_TEMPLATE = "<Month> <day>, <year>"
PERIOD_TEMPLATE = "<start date> to <end date>"
# The handbooks rapidvet checks count a fiscal year from Feb 1: FY27 is Feb 1, 2026 to
# Jan 31, 2027.
_FISCAL_YEAR = "Feb 1, {start} to Jan 31, {end}"


def title_fiscal_year(title: str) -> int | None:
    """The year a title's "FY27", "FY 2027" or "(FY2027)" ends in, or None."""
    words = "".join(char if char.isalnum() else " " for char in title.casefold()).split()
    for n, word in enumerate(words):
        digits = word[2:] if word.startswith("fy") else None
        if digits == "" and n + 1 < len(words):
            digits = words[n + 1]
        if digits and digits.isascii() and digits.isdigit() and len(digits) in (2, 4):
            return int(digits) + (2000 if len(digits) == 2 else 0)
    return None


def period_for(title: str) -> str:
    """The Period of the fiscal year the title names, or placeholders."""
    year = title_fiscal_year(title)
    return _FISCAL_YEAR.format(start=year - 1, end=year) if year else PERIOD_TEMPLATE


def metadata_row(key: str, title: str) -> str:
    """The table row for a metadata key (as in checks.parse.METADATA_KEYS) of a plan."""
    value = {
        "period": period_for(title),
        "rapid": RAPID_TEMPLATE,
        "vetted date": "TBD",
        "previous versions": "",
    }[key]
    label = "RAPID" if key == "rapid" else key.capitalize()
    return f"| {label} | {value} |" if value else f"| {label} | |"
