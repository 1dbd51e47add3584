"""The `#anchor` GitHub gives each heading of a rendered markdown page.

GitHub's table-of-contents filter takes the heading's rendered text, lower-cases it,
removes every character that is not a letter, mark, decimal or letter number, connector
punctuation (`_`), `-` or space (Ruby's `[^\\p{Word}\\- ]`), turns each space into `-`, and
gives a heading whose anchor was already taken on the page the first free `-1`, `-2`...
suffix. Headings in quotes and lists count; an empty heading gets no anchor.

Rendered text: links give their text, code spans their code, images nothing, emphasis
marks, escapes and tags go, entities are decoded. Not modelled: `:shortcode:` emoji
(GitHub renders them as emoji, removed; here their name is kept) and raw `<h1>` tags.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from rapidvet.checks.parse import blank_front_matter

# What \p{Word} holds besides letters (L*) and marks (M*): decimal and letter numbers and
# connector punctuation; `-` and space are kept too.
_KEPT_CATEGORIES = frozenset({"Nd", "Nl", "Pc"})
_MD = MarkdownIt("commonmark", {"html": True}).enable("table")


def github_anchor(text: str) -> str:
    """The anchor of a heading whose rendered text is `text`, before duplicates count."""
    kept = (char for char in text.lower() if char in "- " or _word_char(char))
    return "".join(kept).replace(" ", "-")


def _word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category in _KEPT_CATEGORIES


def heading_anchors(markdown: str) -> dict[int, str]:
    """Each heading's anchor by its 1-based line, as `checks.parse` numbers lines."""
    source = blank_front_matter(markdown.replace("\r\n", "\n").replace("\r", "\n"))
    tokens = _MD.parse(source)
    seen: set[str] = set()
    # A base's first free suffix only grows, so the search resumes where it last ended: a
    # stranger's page of 100 000 equal headings costs 100 000 steps, not their square.
    next_suffix: dict[str, int] = {}
    anchors: dict[int, str] = {}
    for line, text in _headings(tokens):
        if not text:
            continue
        base = github_anchor(text)
        suffix = next_suffix.get(base, 0)
        while (anchor := f"{base}-{suffix}" if suffix else base) in seen:
            suffix += 1
        next_suffix[base] = suffix + 1
        seen.add(anchor)
        anchors[line] = anchor
    return anchors


def _headings(tokens: Sequence[Token]) -> Iterator[tuple[int, str]]:
    """(1-based line, rendered text) of every heading, at any depth."""
    for n, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            yield token.map[0] + 1, "".join(_rendered(tokens[n + 1].children or []))


def _rendered(children: Sequence[Token]) -> Iterator[str]:
    """The text a browser shows of inline tokens: images (their alt text is an attribute)
    and tags show none."""
    for child in children:
        if child.type in ("text", "code_inline"):
            yield child.content
        elif child.type == "softbreak":
            yield "\n"
