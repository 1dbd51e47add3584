"""Pages a stranger's pull request can send to make checking slow, each about `size` bytes.

Shared by the hostile benchmark and by the tests that prove checking stays linear:

- row 2 (backtracking regexes): `td_table_page`, an HTML table of unclosed cells under a plan
  title, and `bracket_heading_page`, a heading of unclosed `[`;
- row 4 (unbounded markdown parse): `big_table_page`, a plan whose metadata table goes on for
  rows, and `nested_list_page`, list items nested `depth` levels deep over and over.

Every generator returns text of at least `size` bytes of UTF-8 and less than `size` plus one
repeated unit.
"""

from __future__ import annotations

TITLE = "## FY20 Ops VPMOM\n\n"


def _repeated(head: str, unit: str, size: int, tail: str = "") -> str:
    """`head`, then `unit` as many times as it takes to reach `size` bytes, then `tail`."""
    fixed = len((head + tail).encode())
    count = max(0, -(-(size - fixed) // len(unit.encode())))
    return head + unit * count + tail


def td_table_page(size: int) -> str:
    """A plan title over `<table>` and a run of `<td>` that no `</td>` closes."""
    return _repeated(TITLE + "<table>", "<td>", size, "\n")


def bracket_heading_page(size: int) -> str:
    """A heading of unclosed `[`, read by every title and label check."""
    return _repeated("# ", "[", size, " VPMOM\n")


def big_table_page(size: int) -> str:
    """A plan whose metadata table holds one row after another."""
    head = TITLE + "| Period | May 1, 2020 to Jan 31, 2021 |\n|:---|:---|\n"
    return _repeated(head, "| Vision | Be the best at one thing |\n", size)


def nested_list_page(size: int, depth: int = 8) -> str:
    """A plan title, then list items nested `depth` levels deep, again and again."""
    unit = "".join(f"{'  ' * level}- Priority {level}\n" for level in range(depth))
    return _repeated(TITLE + "Priorities\n\n", unit, size)


GENERATORS = {
    "td-table": td_table_page,
    "bracket-heading": bracket_heading_page,
    "big-table": big_table_page,
    "nested-lists": nested_list_page,
}
