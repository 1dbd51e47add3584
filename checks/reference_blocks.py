"""A page's top-level blocks from markdown-it-py's token stream: the reference parse.

`checks.block_scan` reads most pages faster and gives up on the rest; this reads any page.
markdown-it is imported on the first page that needs it, so a run whose pages the scanner
reads never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from rapidvet.checks.block_scan import RawBlock

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_KINDS = {
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "table_open": "table",
}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Only block structure is needed: titles and labels are read from raw text, so the
    # inline pass (half of the parse time) is switched off.
    return MarkdownIt("commonmark", {"html": True}).enable("table").disable("inline")


def reference_blocks(source: str) -> list[RawBlock]:
    """The top-level blocks of `source` as markdown-it-py parses it."""
    tokens = _markdown().parse(source)
    out: list[RawBlock] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.level != 0 or tok.map is None:
            i += 1
            continue
        start, end = tok.map
        if tok.type == "heading_open":
            out.append(RawBlock("heading", start, end, int(tok.tag[1]), tokens[i + 1].content))
            i += 3
            continue
        if tok.type in ("fence", "code_block"):
            out.append(RawBlock("fence", start, end))
        elif tok.type == "html_block":
            out.append(RawBlock("html", start, end, content=tok.content))
        elif tok.type == "hr":
            out.append(RawBlock("hr", start, end))
        elif tok.type.endswith("_open"):
            close = tok.type.replace("_open", "_close")
            j = i + 1
            while j < len(tokens) and not (tokens[j].type == close and tokens[j].level == 0):
                j += 1
            kind = _KINDS.get(tok.type, "other")
            body = tokens[i : j + 1]
            out.append(
                RawBlock(
                    kind,
                    start,
                    end,
                    content=tokens[i + 1].content if kind == "paragraph" else "",
                    rows=_rows(body) if kind == "table" else (),
                    items=_items(body) if kind == "list" else (),
                )
            )
            i = j + 1
            continue
        i += 1
    return out


def _rows(tokens: Sequence[Token]) -> tuple[int, ...]:
    """The first line of each table row (`tr`), the delimiter row having none."""
    return tuple(tok.map[0] for tok in tokens if tok.type == "tr_open" and tok.map is not None)


def _items(tokens: Sequence[Token]) -> tuple[tuple[int, str], ...]:
    """(first line, text) of each list item at any depth: the text of the inline token two
    after its opening, that of a first paragraph or heading, else ""."""
    out = []
    for i, tok in enumerate(tokens):
        if tok.type == "list_item_open" and tok.map is not None:
            nxt = tokens[i + 2] if i + 2 < len(tokens) else None
            text = nxt.content if nxt is not None and nxt.type == "inline" else ""
            out.append((tok.map[0], text))
    return tuple(out)
