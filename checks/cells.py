"""Pipe-table source lines cut into cells, each with its offsets in the line, so a cell can
be read and rewritten in place."""

from __future__ import annotations

from itertools import pairwise

from rapidvet.checks.occurrences import places


def _pipes(line: str) -> list[int]:
    """Offsets of the pipes that split a table row: not escaped, not in a code span."""
    if "\\" not in line and "`" not in line:
        return list(places(line, "|"))
    bounds = []
    in_code = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        elif ch == "|" and not in_code:
            bounds.append(i)
        i += 1
    return bounds


def split_cells(line: str) -> list[tuple[int, str, int]]:
    """Cells of a pipe-table source line as (start, text, end) offsets of their stripped
    text; escaped pipes and pipes inside code spans do not split."""
    bounds = _pipes(line)
    stripped = line.strip()
    edges = [-1, *bounds, len(line)]
    if stripped.startswith("|"):
        edges = edges[1:]
    if stripped.endswith("|") and len(edges) > 1:
        edges = edges[:-1]
    cells = []
    for left, right in pairwise(edges):
        raw = line[left + 1 : right]
        lead = len(raw) - len(raw.lstrip())
        text = raw.strip()
        start = left + 1 + lead
        cells.append((start, text, start + len(text)))
    return cells
