"""A page's top-level markdown blocks without markdown-it-py, where that is certain.

markdown-it-py's block parse is the reference (`checks.reference_blocks`), but most of a plan
page is headings, paragraphs, lists, pipe tables and fences, and its general machinery (a
rule object per construct tried on every line, a token per element) costs several times what
those need. `scan_blocks` follows markdown-it-py 4's block rules line for line for exactly
those constructs (ATX and setext headings, paragraphs, bullet and ordered lists at any depth,
pipe tables, fenced code, thematic breaks) and gives up, returning None, wherever a page
needs anything else: a tab or NUL anywhere, indented code, a block quote, an HTML block, a
link reference definition, or lists nested deeper than `MAX_LIST_DEPTH`. The caller then
parses the page with markdown-it-py. tests/checks/test_block_scan.py runs both on the corpus,
the synthetic handbooks and generated plan-shaped pages and requires identical blocks.

Each rule below is named for the markdown-it-py rule it follows and keeps its order of
checks, since the order decides which construct a line opens. Without tabs and block quotes,
a line's indentation in columns equals its offset in characters, so one `shift` per line
serves as markdown-it's `tShift` and `sCount`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

MAX_LIST_DEPTH = 4  # far below markdown-it's nesting limit (20 token levels, 2 per list)
# markdown-it's `mdTrim` set: JavaScript's `trim` whitespace but U+FEFF.
_TRIM = "".join(
    chr(code)
    for code in sorted(
        {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x202F, 0x205F, 0x3000}
        | set(range(0x2000, 0x200B))
        | {0x2028, 0x2029}
    )
)
_MAX_AUTOCOMPLETED_CELLS = 0x10000  # markdown-it's table limit
# CommonMark's block-level HTML tag names, as markdown-it-py lists them
_BLOCK_TAG_NAMES = (
    "address article aside base basefont blockquote body caption center col colgroup dd"
    " details dialog dir div dl dt fieldset figcaption figure footer form frame frameset"
    " h1 h2 h3 h4 h5 h6 head header hr html iframe legend li link main menu menuitem nav"
    " noframes ol optgroup option p param search section summary table tbody td tfoot th"
    " thead title tr track ul"
)
_BLOCK_TAGS = frozenset(_BLOCK_TAG_NAMES.split())


class RawBlock(NamedTuple):
    """A top-level block as markdown-it-py's tokens describe it: its kind, 0-based line range
    [start, end), heading level, the content of its inline token (a heading's or paragraph's
    text, an HTML block's source), a table's row lines (the delimiter row left out) and a
    list's items at every depth as (0-based line, content of the item's first paragraph or
    heading, "" when it starts with anything else)."""

    kind: str  # heading | paragraph | list | table | html | fence | hr | other
    start: int
    end: int
    level: int = 0
    content: str = ""
    rows: tuple[int, ...] = ()
    items: tuple[tuple[int, str], ...] = ()


class _Uncertain(Exception):
    """The page needs a construct the scanner does not follow."""


def scan_blocks(source: str) -> list[RawBlock] | None:
    """The top-level blocks of `source` (newlines already `\\n`), or None when the page
    needs markdown-it-py."""
    if "\t" in source or "\0" in source:
        return None
    try:
        return _Scanner(source).blocks()
    except _Uncertain:
        return None


def _trim(text: str) -> str:
    return text.strip(_TRIM)


def _row_cells(text: str) -> int:
    """How many cells markdown-it reads in a trimmed table row: it splits at pipes not
    right after a backslash and drops an empty first and last piece."""
    if not text:
        return 0
    cells = text.count("|") - text.count("\\|") + 1
    if text.startswith("|"):
        cells -= 1
    if cells and text.endswith("|") and not text.endswith("\\|"):
        cells -= 1
    return cells


def _block_tag(text: str) -> bool:
    """Whether `text` opens with a block-level tag: `^</?(NAMES)(?=(\\s|/?>|$))`, case
    ignored, as markdown-it's HTML block rule 6 reads it."""
    pos = 2 if text.startswith("</") else 1
    name_end = pos
    while name_end < len(text) and text[name_end].isascii() and text[name_end].isalnum():
        name_end += 1
    if text[pos:name_end].lower() not in _BLOCK_TAGS:
        return False
    after = text[name_end : name_end + 2]
    return after == "" or after[0].isspace() or after[0] == ">" or after == "/>"


def _delimiter_cell(text: str) -> bool:
    """`^:?-+:?$` without a regex."""
    body = text[1:] if text.startswith(":") else text
    body = body[:-1] if body.endswith(":") else body
    return body != "" and body.count("-") == len(body)


class _Scanner:
    def __init__(self, source: str) -> None:
        self.lines = source.split("\n")
        # markdown-it counts no line after a final newline, nor a last line of blanks; the
        # last line it counts then ends in a newline
        self.last_newline = not self.lines[-1].strip(" ")
        if self.last_newline:
            self.lines.pop()
        self.max = len(self.lines)
        self.shift = [len(line) - len(line.lstrip(" ")) for line in self.lines]
        self.blk = 0  # markdown-it's blkIndent
        self.list_indent = -1
        self.parent = "root"
        self.line = 0
        self.depth = 0  # lists open around the current block
        self.out: list[RawBlock] = []
        self.items: list[tuple[int, str]] = []  # of the top-level list being read
        self.first_child: int | None = None  # the item whose first block comes next
        self.prose_end: tuple[int, int] | None = None  # a paragraph's lines, lheading found
        self.label_ends = "]:" in source  # without, no line defines a link reference

    def blocks(self) -> list[RawBlock]:
        self.tokenize(0, self.max)
        return self.out

    # -- state helpers, as markdown-it's StateBlock has them

    def empty(self, n: int) -> bool:
        return n >= self.max or self.shift[n] >= len(self.lines[n])

    def code_line(self, n: int) -> bool:
        return self.shift[n] - self.blk >= 4

    def char(self, n: int) -> str:
        """The first character of line `n`'s content, "" at its end."""
        line = self.lines[n]
        return line[self.shift[n]] if self.shift[n] < len(line) else ""

    def lines_text(self, begin: int, end: int, indent: int, last_newline: bool = False) -> str:
        """markdown-it's `getLines(begin, end, indent, last_newline)`."""
        if not indent:
            parts = self.lines[begin:end]  # nothing to take off: a top-level block
        else:
            parts = [self.unindented(n, indent) for n in range(begin, end)]
        text = "\n".join(parts)
        has_newline = end < self.max or self.last_newline  # the last line's, in the source
        return text + "\n" if last_newline and has_newline and parts else text

    def unindented(self, n: int, indent: int) -> str:
        """Line `n` without up to `indent` columns of blanks or, on an item's first line,
        of its marker."""
        line, first, column = self.lines[n], 0, 0
        while first < len(line) and column < indent:
            if line[first] != " " and first >= self.shift[n]:
                break
            column += 1
            first += 1
        return line[first:]

    def text(self, begin: int, end: int) -> str:
        """A paragraph's or setext heading's text, where it is kept: at the top level, or as
        an item's first block."""
        if self.depth and self.first_child is None:
            return ""
        return _trim(self.lines_text(begin, end, self.blk))

    def stops(self, n: int, end: int, ends: frozenset[_Rule]) -> bool:
        """Whether one of the rules `ends` (markdown-it's terminator rules of a construct)
        matches line `n` in silent mode. Silent rules change nothing, so only the ones
        that can match its first character are tried, in any order."""
        shift = self.shift[n]
        if shift - self.blk >= 4:
            return False  # every rule but code declines an indented line
        if _Scanner.table in ends and self.table(n, end, True):
            return True
        line = self.lines[n]
        for rule in _MARKED.get(line[shift], ()) if shift < len(line) else ():
            if rule in ends and rule(self, n, end, True):
                return True
        return False

    def child(self, text: str) -> None:
        """A block opens: when it is an item's first, its text is the item's."""
        if self.first_child is not None:
            self.items[self.first_child] = (self.items[self.first_child][0], text)
            self.first_child = None

    def emit(
        self,
        kind: str,
        start: int,
        end: int,
        level: int = 0,
        content: str = "",
        rows: tuple[int, ...] = (),
    ) -> None:
        """Record a block: kept when it is top-level."""
        self.child(content if kind in ("paragraph", "heading") else "")
        if self.depth == 0:
            self.out.append(RawBlock(kind, start, end, level, content, rows))

    # -- the block tokenizer

    def tokenize(self, start: int, end: int) -> None:
        lines, shift = self.lines, self.shift
        line = start
        while line < end:
            while line < self.max and shift[line] >= len(lines[line]):
                line += 1  # blank
            self.line = line
            if line >= end or shift[line] < self.blk:
                break
            first = lines[line][shift[line]]
            if first in _RULES or not self.lone_line(line, end):
                for rule in _RULES.get(first, _PLAIN_RULES):
                    if rule(self, line, end, False):
                        break
            line = self.line
            if line < end and shift[line] >= len(lines[line]):
                line += 1
                self.line = line

    # -- the rules, in markdown-it's order

    def table(self, start: int, end: int, silent: bool) -> bool:
        # markdown-it reads the delimiter row first; a header without a pipe fails anyway
        if start + 2 > end or "|" not in self.lines[start]:
            return False
        delimiter = start + 1
        if self.shift[delimiter] < self.blk or self.code_line(delimiter):
            return False
        row = self.lines[delimiter][self.shift[delimiter] :]
        if len(row) < 2 or row[0] not in "|-:" or row[1] not in "|-: ":
            return False
        if row[0] == "-" and row[1] == " ":
            return False
        if row.strip("|-: "):
            return False
        columns = row.split("|")
        aligns = 0
        for i, column in enumerate(columns):
            cell = _trim(column)
            if not cell:
                if i in (0, len(columns) - 1):
                    continue
                return False
            if not _delimiter_cell(cell):
                return False
            aligns += 1
        header = _trim(self.lines[start][self.shift[start] :])
        if "|" not in header or self.code_line(start):
            return False
        count = _row_cells(header)
        if count == 0 or count != aligns:
            return False
        if silent:
            return True
        old_parent, self.parent = self.parent, "table"
        rows = [start]
        autocompleted = 0
        n = start + 2
        while n < end:
            if self.shift[n] < self.blk or self.stops(n, end, _ENDS_BLOCKQUOTE):
                break
            text = _trim(self.lines[n][self.shift[n] :])
            if not text or self.code_line(n):
                break
            autocompleted += count - _row_cells(text)
            if autocompleted > _MAX_AUTOCOMPLETED_CELLS:
                break
            rows.append(n)
            n += 1
        self.parent = old_parent
        self.line = n
        self.emit("table", start, n, rows=tuple(rows))
        return True

    def code(self, start: int, end: int, silent: bool) -> bool:
        if self.code_line(start):
            raise _Uncertain  # indented code
        return False

    def fence(self, start: int, end: int, silent: bool) -> bool:
        line = self.lines[start]
        pos = self.shift[start]
        if self.code_line(start) or pos + 3 > len(line):
            return False
        marker = line[pos]
        if marker not in "~`":
            return False
        length = len(line) - pos - len(line[pos:].lstrip(marker))
        if length < 3:
            return False
        if marker == "`" and "`" in line[pos + length :]:
            return False
        if silent:
            return True
        closed = False
        n = start
        while True:
            n += 1
            if n >= end:
                break
            text, pos = self.lines[n], self.shift[n]
            if pos < len(text) and self.shift[n] < self.blk:
                break
            if pos >= len(text) or text[pos] != marker or self.code_line(n):
                continue
            run = len(text) - pos - len(text[pos:].lstrip(marker))
            if run < length or text[pos + run :].strip(" "):
                continue
            closed = True
            break
        self.line = n + (1 if closed else 0)
        self.emit("fence", start, self.line)
        return True

    def blockquote(self, start: int, end: int, silent: bool) -> bool:
        """Only a top-level quote of `>` lines ending at a blank line or the page's end, its
        last line not blank: markdown-it's quote then ends there whatever it holds."""
        if self.code_line(start) or self.char(start) != ">":
            return False
        if silent:
            return True
        n = start + 1
        while n < end and self.char(n) == ">":
            n += 1
        last = self.lines[n - 1][self.shift[n - 1] + 1 :]
        if self.depth or not self.empty(n) or not last.strip(" "):
            raise _Uncertain  # lazy lines, a quote in a list, a trailing blank `>` line
        self.line = n
        self.emit("other", start, n)
        return True

    def hr(self, start: int, end: int, silent: bool) -> bool:
        if self.code_line(start):
            return False
        rest = self.lines[start][self.shift[start] :]
        if not rest or rest[0] not in "*-_":
            return False
        if rest.strip(rest[0] + " ") or rest.count(rest[0]) < 3:
            return False
        if silent:
            return True
        self.line = start + 1
        self.emit("hr", start, start + 1)
        return True

    def ordered_marker(self, n: int) -> int:
        """The offset after `\\d{1,9}[.)]` opening line `n`'s content, followed by a blank or
        the line's end; -1 when there is none."""
        line, start = self.lines[n], self.shift[n]
        if start + 1 >= len(line) or not "0" <= line[start] <= "9":
            return -1
        pos = start + 1
        while True:
            if pos >= len(line):
                return -1
            ch = line[pos]
            pos += 1
            if "0" <= ch <= "9":
                if pos - start >= 10:
                    return -1
                continue
            if ch in ".)":
                break
            return -1
        return pos if pos >= len(line) or line[pos] == " " else -1

    def bullet_marker(self, n: int) -> int:
        line, pos = self.lines[n], self.shift[n]
        if pos >= len(line) or line[pos] not in "*-+":
            return -1
        return pos + 1 if pos + 1 >= len(line) or line[pos + 1] == " " else -1

    def list(self, start: int, end: int, silent: bool) -> bool:
        if self.code_line(start):
            return False
        if (
            self.list_indent >= 0
            and self.shift[start] - self.list_indent >= 4
            and self.shift[start] < self.blk
        ):
            return False
        ends_paragraph = silent and self.parent == "paragraph" and self.shift[start] >= self.blk
        after = self.ordered_marker(start)
        ordered = after >= 0
        if ordered:
            if ends_paragraph and int(self.lines[start][self.shift[start] : after - 1]) != 1:
                return False
        else:
            after = self.bullet_marker(start)
            if after < 0:
                return False
        if ends_paragraph and not self.lines[start][after:].strip(" "):
            return False
        marker = self.lines[start][after - 1]
        if silent:
            return True
        if self.depth >= MAX_LIST_DEPTH:
            raise _Uncertain
        first = start
        old_parent, self.parent = self.parent, "list"
        self.child("")
        self.depth += 1
        n = start
        while n < end:
            line = self.lines[n]
            content = len(line) - len(line[after:].lstrip(" "))
            indent_after = 1 if content >= len(line) else content - after
            indent = after + (1 if indent_after > 4 else indent_after)
            self.items.append((start, ""))
            self.first_child = len(self.items) - 1
            old_shift = self.shift[start]
            old_list_indent, self.list_indent = self.list_indent, self.blk
            self.blk = indent
            self.shift[start] = content
            if content >= len(line) and self.empty(start + 1):
                self.line = min(self.line + 2, end)
            else:
                self.tokenize(start, end)
            self.first_child = None
            self.blk, self.list_indent = self.list_indent, old_list_indent
            self.shift[start] = old_shift
            n = start = self.line
            if n >= end or self.shift[n] < self.blk or self.code_line(n):
                break
            if self.stops(n, end, _ENDS_LIST):
                break
            after = self.ordered_marker(n) if ordered else self.bullet_marker(n)
            if after < 0 or self.lines[n][after - 1] != marker:
                break
        self.depth -= 1
        self.parent = old_parent
        self.line = n
        if self.depth == 0:
            self.out.append(RawBlock("list", first, n, items=tuple(self.items)))
            self.items = []
        return True

    def reference(self, start: int, end: int, silent: bool) -> bool:
        if not self.code_line(start) and self.char(start) == "[" and self.label_ends:
            raise _Uncertain
        return False

    def html_block(self, start: int, end: int, silent: bool) -> bool:
        """Only HTML blocks of CommonMark's kind 6 (a block tag opening the line), which
        end at a blank line; a line opening with `<` otherwise is left to markdown-it."""
        if self.code_line(start) or self.char(start) != "<":
            return False
        if not _block_tag(self.lines[start][self.shift[start] :]):
            raise _Uncertain
        if silent:
            return True
        n = start + 1
        while n < end and not (self.shift[n] < self.blk or self.empty(n)):
            n += 1
        self.line = n
        self.emit("html", start, n, content=self.lines_text(start, n, self.blk, True))
        return True

    def heading(self, start: int, end: int, silent: bool) -> bool:
        line, pos = self.lines[start], self.shift[start]
        if self.code_line(start) or pos >= len(line) or line[pos] != "#":
            return False
        hashes = len(line) - pos - len(line[pos:].lstrip("#"))
        if hashes > 6:
            return False
        pos += hashes
        if pos < len(line) and line[pos] != " ":
            return False
        if silent:
            return True
        stop = len(line.rstrip(" "))
        stop = max(stop, pos)
        closing = len(line[pos:stop].rstrip("#")) + pos
        if closing > pos and line[closing - 1] == " ":
            stop = closing
        self.line = start + 1
        self.emit("heading", start, start + 1, hashes, _trim(line[pos:stop]))
        return True

    def lheading(self, start: int, end: int, silent: bool) -> bool:
        level = 0
        n = start + 1
        if self.code_line(start):
            return False
        # Restored only when an underline is found, as markdown-it restores it.
        old_parent, self.parent = self.parent, "paragraph"
        lines, shift = self.lines, self.shift
        while n < end and shift[n] < len(lines[n]):
            if shift[n] - self.blk > 3:
                n += 1
                continue
            if shift[n] >= self.blk and lines[n][shift[n]] in "-=":
                rest = self.lines[n][self.shift[n] :]
                if not rest.lstrip(rest[0]).strip(" "):
                    level = 1 if rest[0] == "=" else 2
                    break
            if self.stops(n, end, _ENDS_PARAGRAPH):
                break
            n += 1
        if not level:
            # The paragraph rule, tried next, would stop where this did (no underline seen)
            self.prose_end = (start, n) if end == self.max else None
            return False
        self.line = n + 1
        self.emit("heading", start, n + 1, level, self.text(start, n))
        self.parent = old_parent
        return True

    def lone_line(self, start: int, end: int) -> bool:
        """What the table, code, lheading and paragraph rules make of a line no other rule
        can open, in one step, where that is a paragraph of the line alone: the next line is
        blank, or ends it without being an underline. Most of a plan's items and prose are
        such lines. False, with nothing changed, for any other line."""
        if "|" in self.lines[start] or self.code_line(start):
            return False  # a table's header, or indented code
        n = start + 1
        if n < self.max and self.shift[n] < len(self.lines[n]):
            if n >= end or self.shift[n] - self.blk > 3:
                return False  # the paragraph would read on: a lazy or indented line
            if self.shift[n] >= self.blk and self.lines[n][self.shift[n]] in "-=":
                return False  # perhaps a setext underline
            old_parent, self.parent = self.parent, "paragraph"
            if not self.stops(n, end, _ENDS_PARAGRAPH):
                self.parent = old_parent
                return False
        # As lheading leaves them when it finds no underline.
        self.parent = "paragraph"
        self.prose_end = (start, n) if end == self.max else None
        self.line = n
        self.emit("paragraph", start, n, content=self.text(start, n))
        return True

    def paragraph(self, start: int, end: int, silent: bool) -> bool:
        n = start + 1
        end = self.max
        old_parent, self.parent = self.parent, "paragraph"
        if self.prose_end is not None and self.prose_end[0] == start:
            n = end = self.prose_end[1]
        lines, shift = self.lines, self.shift
        while n < end:
            if shift[n] >= len(lines[n]):
                break  # blank
            if shift[n] - self.blk > 3:
                n += 1
                continue
            if self.stops(n, end, _ENDS_PARAGRAPH):
                break
            n += 1
        self.line = n
        self.emit("paragraph", start, n, content=self.text(start, n))
        self.parent = old_parent
        return True


_Rule = Callable[[_Scanner, int, int, bool], bool]
# The rules that can match a line, by the first character of its content, in markdown-it's
# order (table, code, fence, blockquote, hr, list, reference, html_block, heading, lheading,
# paragraph): the others return False there.
_MARKED: dict[str, tuple[_Rule, ...]] = {
    "`": (_Scanner.fence,),
    "~": (_Scanner.fence,),
    ">": (_Scanner.blockquote,),
    "*": (_Scanner.hr, _Scanner.list),
    "-": (_Scanner.hr, _Scanner.list),
    "_": (_Scanner.hr,),
    "+": (_Scanner.list,),
    "[": (_Scanner.reference,),
    "<": (_Scanner.html_block,),
    "#": (_Scanner.heading,),
}
_MARKED.update(dict.fromkeys("0123456789", (_Scanner.list,)))
_PLAIN_RULES: tuple[_Rule, ...] = (
    _Scanner.table,
    _Scanner.code,
    _Scanner.lheading,
    _Scanner.paragraph,
)
_RULES = {
    first: (_Scanner.table, _Scanner.code, *rules, _Scanner.lheading, _Scanner.paragraph)
    for first, rules in _MARKED.items()
}
# markdown-it's terminator rules of a list, a block quote and a paragraph
_ENDS_LIST: frozenset[_Rule] = frozenset((_Scanner.fence, _Scanner.blockquote, _Scanner.hr))
_ENDS_BLOCKQUOTE = _ENDS_LIST | {_Scanner.list, _Scanner.html_block, _Scanner.heading}
_ENDS_PARAGRAPH = _ENDS_BLOCKQUOTE | {_Scanner.table}
