"""Edits of a page that leave every byte outside them as it was: a table cell's value
rewritten in place, rows appended to a metadata table, a table put under a title.

Line numbers are the parser's (1-based; `\\r\\n`, `\\r` and `\\n` all end a line), and each
line keeps its own ending, so a CRLF page stays CRLF and a page without a final newline
gets none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidvet.checks.cells import split_cells
from rapidvet.checks.model import Block, MetadataRow

_NEWLINE = re.compile(r"(\r\n|\r|\n)")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*")
_ATX_HEADING = re.compile(r" {0,3}#")
TABLE_DELIMITER = "|:---|:---|"


@dataclass(frozen=True)
class CellEdit:
    """Replace characters start:end of line `line` by `text`."""

    line: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Insertion:
    """New lines after line `after`."""

    after: int
    lines: tuple[str, ...]


Edit = CellEdit | Insertion


class Lines:
    """A page as its lines' contents and their endings ("" for an unterminated last line)."""

    def __init__(self, text: str) -> None:
        parts = _NEWLINE.split(text)
        self.contents = parts[::2]
        self.endings = [*parts[1::2], ""]

    def __getitem__(self, line: int) -> str:
        return self.contents[line - 1]

    def __len__(self) -> int:
        return len(self.contents)

    def text(self) -> str:
        return "".join(c + e for c, e in zip(self.contents, self.endings, strict=True))

    def apply(self, edits: Iterable[Edit]) -> None:
        """Apply edits that refer to the unedited page: bottom up, so that the lines an
        insertion adds do not move the lines still to edit."""
        for edit in sorted(edits, key=_position, reverse=True):
            if isinstance(edit, CellEdit):
                self._rewrite(edit)
            else:
                self._insert(edit)

    def _rewrite(self, edit: CellEdit) -> None:
        content = self.contents[edit.line - 1]
        self.contents[edit.line - 1] = content[: edit.start] + edit.text + content[edit.end :]

    def _insert(self, insertion: Insertion) -> None:
        index = insertion.after - 1
        # New lines end like the line they follow; after an unterminated last line, that
        # line gets the file's newline and the last new line stays unterminated.
        ending = self.endings[index]
        newline = ending or next((e for e in self.endings if e), "\n")
        endings = [newline] * len(insertion.lines)
        if not ending:
            self.endings[index], endings[-1] = newline, ""
        self.contents[index + 1 : index + 1] = insertion.lines
        self.endings[index + 1 : index + 1] = endings


def _position(edit: Edit) -> tuple[int, int, int]:
    # Insertions after a line come below that line's own edits; cell edits on one line
    # apply right to left.
    if isinstance(edit, Insertion):
        return (edit.after, 1, 0)
    return (edit.line, 0, edit.start)


def cell_edit(lines: Lines, row: MetadataRow, value: str) -> CellEdit | None:
    """The row's value cell rewritten to `value`, or None when it already reads so."""
    if row.value == value:
        return None
    content = lines[row.line]
    if len(split_cells(content)) < 2:
        # A key cell alone ("| Vetted date |"): the value needs a cell of its own.
        return CellEdit(row.line, row.value_end, row.value_end, f" | {value}")
    if not row.value and content[row.value_start - 1 : row.value_end + 1] == " |":
        value += " "  # "| |" becomes "| value |", not "| value|"
    return CellEdit(row.line, row.value_start, row.value_end, value)


def appended_rows(lines: Lines, block: Block, rows: Sequence[tuple[str, str]]) -> Insertion:
    """(key, value) rows added under the block's metadata table, in the table's style."""
    assert block.table_line is not None  # only called for a block with a table
    # The last row, or the delimiter under a header row with no body rows.
    last = max(max(row.line for row in block.metadata), block.table_line + 1)
    added = tuple(_row_like(lines, block.metadata, key, value) for key, value in rows)
    return Insertion(last, added)


def table_under_title(lines: Lines, block: Block, rows: Sequence[tuple[str, str]]) -> Insertion:
    """A new metadata table of (key, value) rows right under the block's title. Its first
    row is the table's header row, as the Period row is in a full table."""
    title = block.line
    following = lines[title + 1] if title < len(lines) else ""
    if not _ATX_HEADING.match(lines[title]) and _SETEXT_UNDERLINE.fullmatch(following):
        title += 1
        following = lines[title + 1] if title < len(lines) else ""
    table = [f"| {key} | {value} |" if value else f"| {key} | |" for key, value in rows]
    table.insert(1, TABLE_DELIMITER)
    # Blank lines around it: a line right under a table would read as one of its rows.
    closing = [""] if following.strip() else []
    return Insertion(title, ("", *table, *closing))


def _row_like(lines: Lines, rows: Sequence[MetadataRow], key: str, value: str) -> str:
    """A row written with the pipes and spacing of the table's last filled row."""
    for row in reversed(rows):
        content = lines[row.line]
        cells = split_cells(content)
        if row.value and len(cells) >= 2:
            key_start, _, key_end = cells[0]
            rest = content[row.value_end :]
            closing = rest[: rest.index("|") + 1] if "|" in rest else ""
            between = content[key_end : row.value_start]
            if not value:  # one space in an empty cell, as in "| Previous versions | |"
                between, closing = between.rstrip() + " ", closing.lstrip()
            return content[:key_start] + key + between + value + closing
    return f"| {key} | {value} |"
