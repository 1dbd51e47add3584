"""Markdown page -> VPMOM blocks, from its top-level markdown blocks and their line ranges.

The blocks come from `checks.block_scan` where it reads the page with certainty, else from
markdown-it-py (`checks.reference_blocks`), the reference the scanner is tested against.

A block is a heading (or a whole-line bold title) whose title ends in a kind name such as
VPMOM or V2MOM, followed by a plan (metadata table or sections) or by a placeholder
("(TBA)", "TBD", "New VPMOM to be added", nothing at all). Headings that only mention a
kind ("How to VPMOM", "VPMOM Example", "MLT VPMOM Review Process") are not blocks, and
neither is a kind heading followed by prose alone. A run of section headings under a
heading that names no kind is a "headless" plan and is found too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidvet.checks.block_scan import RawBlock, scan_blocks
from rapidvet.checks.cells import split_cells
from rapidvet.checks.html import html_cells, html_items, without_tags
from rapidvet.checks.labels import LabelIndex, label_name, mentions_kind, plain, title_kind
from rapidvet.checks.model import Block, Item, MetadataRow, Section
from rapidvet.checks.options import DEFAULT_KINDS, Kind
from rapidvet.checks.reference_blocks import reference_blocks

METADATA_KEYS = ("period", "rapid", "vetted date", "previous versions")
BOLD_LEVEL = 7  # a whole-line **title** ranks below every real heading
# A line opening with TBD may follow blank lines: `[^\S\n]*` keeps the blanks before it to
# its own line, where `^\s*` rescanned a run of blank lines from each of them.
_PLACEHOLDER_BODY = re.compile(
    r"\bto be added\b|^[^\S\n]*(tbd|tba)\b|\bcoming soon\b", re.IGNORECASE | re.MULTILINE
)
_PLACEHOLDER_TITLE = re.compile(r"\((tba|tbd)\)", re.IGNORECASE)
# Literal tag names only: cells and items are found by the scanners of checks.html, since
# regexes chaining `[^>]*`, `\s*` and `(?:<[^>]+>)*` backtrack cubically on unclosed cells.
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass
class _Element:
    """One top-level markdown element with its 0-based line range [start, end)."""

    kind: str  # heading | bold | paragraph | list | table | html | fence | hr | other
    start: int
    end: int
    level: int = 0
    text: str = ""
    rows: tuple[int, ...] = ()  # a table's rows: 0-based lines
    items: tuple[tuple[int, str], ...] = ()  # a list's items: 0-based line, raw text


def _heading_text(content: str) -> str:
    """What a reader sees of a heading: its raw inline source made plain, on one line."""
    return plain(" ".join(content.split()))


def bold_line(text: str) -> str | None:
    """The title of a one-line paragraph wholly in bold (`**Title**`, `__Title__:`), else None.

    Scanned, not matched: `^\\s*(\\*\\*|__)(.+?)\\1\\s*:?\\s*$` is quadratic on a long line."""
    body = text.lstrip()
    delimiter = body[:2]
    if delimiter not in ("**", "__"):
        return None
    rest = body[2:]
    end = len(rest)
    colon = False
    while end > 0 and (rest[end - 1].isspace() or (rest[end - 1] == ":" and not colon)):
        colon = colon or rest[end - 1] == ":"
        end -= 1
    if end < 3 or rest[end - 2 : end] != delimiter or "\n" in rest[: end - 2]:
        return None
    return rest[: end - 2]


def _elements(blocks: Sequence[RawBlock]) -> list[_Element]:
    """The page's top-level blocks as elements: headings' and bold lines' text made plain."""
    out: list[_Element] = []
    for raw in blocks:
        if raw.kind == "heading":
            text = _heading_text(raw.content)
            out.append(_Element("heading", raw.start, raw.end, raw.level, text))
            continue
        text = raw.content if raw.kind in ("paragraph", "html") else ""
        bold = bold_line(text) if raw.kind == "paragraph" and "\n" not in text else None
        if bold:
            out.append(_Element("bold", raw.start, raw.end, BOLD_LEVEL, plain(bold)))
        else:
            out.append(_Element(raw.kind, raw.start, raw.end, 0, text, raw.rows, raw.items))
    return out


def top_level_blocks(source: str) -> list[RawBlock]:
    """The page's top-level markdown blocks: scanned where the scanner is certain, else as
    markdown-it-py parses them."""
    scanned = scan_blocks(source)
    return reference_blocks(source) if scanned is None else scanned


def blank_front_matter(text: str) -> str:
    """YAML front matter replaced by empty lines, so line numbers stay right and the
    `---` fences are not read as a rule and a setext heading."""
    if not text.startswith("---"):
        return text
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return text
    for n in range(1, len(lines)):
        if lines[n].rstrip() in ("---", "..."):
            return "\n" * (n + 1) + "\n".join(lines[n + 1 :])
    return text


def parse_blocks(text: str, kinds: Sequence[Kind] = DEFAULT_KINDS) -> tuple[Block, ...]:
    """Every VPMOM block of a markdown page, in page order."""
    source = blank_front_matter(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = source.split("\n")
    elements = _elements(top_level_blocks(source))
    blocks = [b for b in _titled_blocks(elements, lines, kinds) if b is not None]
    covered = [(b.line, b.end_line) for b in blocks]
    blocks += _headless_blocks(elements, lines, kinds, covered)
    return tuple(sorted(blocks, key=lambda b: b.line))


def _titled_blocks(
    elements: list[_Element], lines: list[str], kinds: Sequence[Kind]
) -> Iterator[Block | None]:
    for n, element in enumerate(elements):
        if element.kind not in ("heading", "bold"):
            continue
        kind = title_kind(element.text, kinds)
        if kind is None:
            continue
        stop = len(elements)
        for m in range(n + 1, len(elements)):
            other = elements[m]
            if other.kind not in ("heading", "bold"):
                continue
            # The block ends at a heading of the same or higher rank, or at any heading
            # that names a kind itself (a nested plan, example or review process).
            if other.level <= element.level or mentions_kind(other.text, kinds):
                stop = m
                break
            if element.kind == "bold" and other.kind == "heading":
                stop = m
                break
        yield _block(element, elements[n + 1 : stop], lines, kind, kinds)


def _block(
    title: _Element,
    body: list[_Element],
    lines: list[str],
    kind: Kind,
    kinds: Sequence[Kind],
) -> Block | None:
    metadata, table_line = _metadata(body, lines)
    sections = _sections(body, lines, kinds)
    if not metadata and _defines_kind(body, sections, kind):
        return None
    # One plan section is enough: a draft holding only its Vision is a plan still missing
    # the rest (section-missing says which), not an invisible heading.
    plan_like = bool(metadata) or bool({s.name for s in sections} - {"commentary"})
    placeholder = None
    if not plan_like:
        placeholder = _placeholder(title, body, lines)
        if placeholder is None:
            return None
    end = max((e.end for e in body), default=title.end)
    end_line = _last_text_line(lines, title.start, end)
    return Block(
        title=title.text,
        kind=kind.name,
        line=title.start + 1,
        end_line=end_line,
        heading_level=title.level,
        metadata=metadata,
        sections=sections,
        placeholder=placeholder,
        table_line=table_line,
    )


def _defines_kind(body: list[_Element], sections: tuple[Section, ...], kind: Kind) -> bool:
    """True for teaching text: prose before the first section that defines the kind
    ("VPMOM is an exercise in awareness..."), which a plan never opens with."""
    first = sections[0].line - 1 if sections else None
    definition = _definition(kind.name)
    return any(
        e.kind == "paragraph" and definition.match(e.text)
        for e in body
        if first is None or e.start < first
    )


@lru_cache(maxsize=16)
def _definition(name: str) -> re.Pattern[str]:
    """ "VPMOM is ...", "V2MOMs are ...": anchored and one pass, as `match` runs it."""
    return re.compile(rf"^\W*{re.escape(name)}s?\s+(is|are|stands|means)\b", re.I)


def _last_text_line(lines: list[str], start: int, end: int) -> int:
    end = min(end, len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _placeholder(title: _Element, body: list[_Element], lines: list[str]) -> str | None:
    """What marks a block as not yet written, or None when its body is just prose."""
    content = [e for e in body if e.kind not in ("hr",)]
    body_text = "\n".join("\n".join(lines[e.start : e.end]) for e in content if e.kind != "fence")
    found = _PLACEHOLDER_BODY.search(body_text)
    if found:
        return plain(found.group(0)).strip()
    if _PLACEHOLDER_TITLE.search(plain(title.text)):
        return "(TBA)"
    if not content:
        return "empty"
    return None


def _metadata(body: list[_Element], lines: list[str]) -> tuple[tuple[MetadataRow, ...], int | None]:
    """Rows of the first table whose first column holds metadata keys (Period, RAPID...)."""
    for element in body:
        if element.kind == "table":
            rows = _table_rows(element, lines)
            keys = {plain(cells[0][1]).casefold() for _, cells in rows if cells}
            if keys & set(METADATA_KEYS):
                # A row of a lone `|` has no cells: nothing to read, and nothing to crash on.
                metadata = tuple(_metadata_row(line, cells) for line, cells in rows if cells)
                return metadata, element.start + 1
    return (), None


def _metadata_row(line: int, cells: list[tuple[int, str, int]]) -> MetadataRow:
    key = plain(cells[0][1])
    if len(cells) > 1:
        start, value, end = cells[1]
    else:
        start, value, end = cells[0][2], "", cells[0][2]
    return MetadataRow(key=key, value=value, line=line, value_start=start, value_end=end)


def _table_rows(
    element: _Element, lines: list[str]
) -> list[tuple[int, list[tuple[int, str, int]]]]:
    """(1-based line, cells) for every row of a pipe table except the delimiter row; each
    cell is (start offset, stripped text, end offset) in the source line."""
    return [(n + 1, split_cells(lines[n])) for n in element.rows]


def _sections(body: list[_Element], lines: list[str], kinds: Sequence[Kind]) -> tuple[Section, ...]:
    """Labelled sections in any of the forms seen in handbooks, with their items."""
    found: list[tuple[str, str, int, list[Item]]] = []  # name, label, 0-based line, items
    current: list[Item] | None = None
    for element in body:
        if element.kind in ("heading", "bold"):
            name = label_name(element.text, kinds)
            if name:
                current = []
                found.append((name, element.text, element.start, current))
            else:
                current = None
        elif element.kind == "paragraph":
            current = _paragraph_sections(element, kinds, found, current)
        elif element.kind == "list":
            current = _list_sections(element, kinds, found, current)
        elif element.kind == "table":
            for line, cells in _table_rows(element, lines):
                name = label_name(cells[0][1], kinds) if cells else None
                if name:
                    texts = [c[1] for c in cells[1:]]
                    items = [Item(t, line) for t in _split_br(" ".join(texts))]
                    found.append((name, plain(cells[0][1]), line - 1, items))
            current = None
        elif element.kind == "html":
            found.extend(_html_sections(element, kinds))
            current = None
    return _close_sections(found, body, lines)


def _paragraph_sections(
    element: _Element,
    kinds: Sequence[Kind],
    found: list[tuple[str, str, int, list[Item]]],
    current: list[Item] | None,
) -> list[Item] | None:
    for offset, raw in enumerate(element.text.split("\n")):
        line = element.start + offset
        label, _, rest = raw.partition(":")
        name = label_name(raw, kinds)
        if name is None and rest.strip():
            name = label_name(label, kinds)
            if name:
                current = [Item(plain(rest), line + 1)]
                found.append((name, plain(label), line, current))
                continue
        if name:
            current = []
            found.append((name, plain(raw).rstrip(":"), line, current))
        elif current is not None and raw.strip():
            current.append(Item(plain(raw), line + 1))
    return current


def _list_sections(
    element: _Element,
    kinds: Sequence[Kind],
    found: list[tuple[str, str, int, list[Item]]],
    current: list[Item] | None,
) -> list[Item] | None:
    for line, text in _list_items(element):
        label, sep, rest = text.partition(":")
        name = label_name(label, kinds) if sep and rest.strip() else None
        if name:
            # "- Vision: text" starts a section of its own
            current = [Item(plain(rest), line)]
            found.append((name, plain(label), line - 1, current))
        elif current is not None:
            current.append(Item(text, line))
    return current


def _list_items(element: _Element) -> Iterator[tuple[int, str]]:
    """(1-based line, text) of every list item at any depth: its first paragraph's text."""
    for line, text in element.items:
        yield line + 1, plain(" ".join(text.split()))


def _split_br(text: str) -> list[str]:
    parts = (_LIST_MARKER.sub("", plain(p)) for p in _BR.split(text))
    return [p.strip() for p in parts if p.strip()]


def _html_sections(
    element: _Element, kinds: Sequence[Kind]
) -> list[tuple[str, str, int, list[Item]]]:
    """Sections in an HTML table: a row whose first cell is a label, its list items after."""
    out: list[tuple[str, str, int, list[Item]]] = []
    text = element.text
    for cell in html_cells(text):
        name = label_name(cell.text, kinds)
        if not name:
            continue
        line = element.start + text.count("\n", 0, cell.start)
        row_end = text.find("</tr>", cell.end)
        row = text[cell.end : row_end if row_end >= 0 else len(text)]
        items = []
        row_line = element.start + text.count("\n", 0, cell.end) + 1
        for li_start, li_text in html_items(row):
            li_line = row_line + row.count("\n", 0, li_start)
            items.append(Item(plain(" ".join(without_tags(li_text).split())), li_line))
        out.append((name, plain(cell.text), line, items))
    return out


def _close_sections(
    found: list[tuple[str, str, int, list[Item]]], body: list[_Element], lines: list[str]
) -> tuple[Section, ...]:
    end = max((e.end for e in body), default=0)
    sections = []
    for n, (name, label, start, items) in enumerate(found):
        stop = found[n + 1][2] if n + 1 < len(found) else end
        last = _last_text_line(lines, start, max(stop, start + 1))
        sections.append(Section(name, label, start + 1, last, tuple(items)))
    return tuple(sections)


def _headless_blocks(
    elements: list[_Element],
    lines: list[str],
    kinds: Sequence[Kind],
    covered: list[tuple[int, int]],
) -> list[Block]:
    """Plans under a heading that names no kind, told by their section labels."""
    out = []
    index: LabelIndex | None = None
    ancestors: list[tuple[int, bool]] = []  # the open headings' levels, and if they name a kind
    for n, element in enumerate(elements):
        if element.kind != "heading":
            continue
        ancestors = [a for a in ancestors if a[0] < element.level]
        ancestors.append((element.level, mentions_kind(element.text, kinds)))
        # Teaching pages nest plan-shaped examples under "How to VPMOM": not plans.
        if label_name(element.text, kinds) or any(named for _, named in ancestors):
            continue
        stop = next(
            (
                m
                for m in range(n + 1, len(elements))
                if elements[m].kind == "heading" and elements[m].level <= element.level
            ),
            len(elements),
        )
        body = elements[n + 1 : stop]
        if not body or any(element.start < a <= body[-1].end for a, _ in covered):
            continue
        index = index or LabelIndex(lines, kinds)
        if _best_kind(list(index.names_between(element.end, body[-1].end)), kinds) is None:
            continue
        if any(e.kind in ("heading", "bold") and mentions_kind(e.text, kinds) for e in body):
            continue
        kind = _best_kind([s.name for s in _sections(body, lines, kinds)], kinds)
        if kind is None:
            continue
        block = _block(element, body, lines, kind, kinds)
        if block is not None:
            out.append(block)
    return out


def _best_kind(labels: list[str], kinds: Sequence[Kind]) -> Kind | None:
    """The kind whose sections the labels cover best, when they miss at most one."""
    seen = set(labels)
    best = max(kinds, key=lambda k: len(seen & set(k.sections)))
    return best if len(seen & set(best.sections)) >= len(best.sections) - 1 else None
