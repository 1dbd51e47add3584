"""The .gitbook.yaml reader without PyYAML gives what PyYAML gives, wherever it reads a file,
and reads the files GitBook documents and real handbooks hold."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rapidvet.checks.gitbook_config import READ, plain_settings
from rapidvet.checks.toc import gitbook_summary_location

KEYS = ["root", "structure", "summary", "readme", "redirects", "Root", "yes", "null", "a/b#c",
        "x:y", "0x1", "-k", ".k", "k:", "#k", "k k", "_k", "on"]  # fmt: skip
VALUES = ["", "SUMMARY.md", "docs", "docs/", "./", "../x", "/", "1.5", "1e-5", "1.e-5", "0x1F",
          "0b1", "2021-01-01", "yes", "Off", "null", "~", ".inf", "-.inf", ".nan", "-x", "x y",
          "a#b", "#c", "'q'", '"q"', "[a]", "{a: b}", "-", "|", "&a", "*a", "!!str x", "x:",
          "./a/b.md", "_x", "x_1", "1/2", "README"]  # fmt: skip
INDENTS = ["", " ", "  ", "   ", "    ", "\t"]
SEPARATORS = [": ", ":", ":  ", ":x ", " : "]
TAILS = ["", "  ", " # note", "#x"]


def line(indent: str, key: str, separator: str, value: str, tail: str) -> str:
    return f"{indent}{key}{separator}{value}{tail}"


lines = st.builds(
    line,
    st.sampled_from(INDENTS),
    st.sampled_from(KEYS),
    st.sampled_from(SEPARATORS),
    st.sampled_from(VALUES),
    st.sampled_from(TAILS),
) | st.sampled_from(["", "   ", "# comment", "---", "...", "- item", "  - item"])


def pyyaml_settings(text: str) -> dict[str, object] | None:
    """What PyYAML gives of the two settings; None where it fails or gives no mapping."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        return None
    return {name: loaded[name] for name in READ if name in loaded}


@given(st.lists(lines, max_size=8).map("\n".join))
@settings(max_examples=3000)
@example("root: ./\n\nstructure:  \n   summary: SUMMARY.md\n    \nredirects:\n   a/b#c: /d.md\n")
@example("structure:\n  summary: docs/SUMMARY.md\n  readme: README\nroot: docs\n")
@example("root: docs\nroot: other/\n")
def test_read_as_pyyaml_reads_it_or_left_to_it(text: str) -> None:
    plain = plain_settings(text)
    if plain is not None:
        assert plain == pyyaml_settings(text)


@pytest.mark.parametrize(
    "text",
    [
        "root: ./\n\nstructure:  \n   summary: SUMMARY.md\n    \nredirects:\n   a/b#c: /d.md\n",
        "# GitBook\nstructure:\n  summary: docs/SUMMARY.md\n  readme: README.md\nroot: docs/\n",
        "root: handbook\n",
        "",
    ],
)
def test_what_gitbook_documents_is_read_without_pyyaml(text: str) -> None:
    assert plain_settings(text) == pyyaml_settings(text)
    assert plain_settings(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "root: 2021-01-01\n",  # a date
        "structure:\n  summary: yes\n",  # a bool
        "root: 'quoted'\n",
        "structure: {summary: a.md}\n",
        "root: docs # the folder\n",
        "structure:\n  summary: a.md\n   readme: b.md\n",  # uneven: an error to PyYAML
        "root: docs\n  summary: a.md\n",  # nested under a value: an error to PyYAML
    ],
)
def test_anything_else_is_left_to_pyyaml(text: str) -> None:
    assert plain_settings(text) is None


def test_corpus_files_are_read_without_pyyaml(corpus: Path) -> None:
    for found in sorted(corpus.rglob(".gitbook.yaml")):
        text = found.read_text(encoding="utf-8")
        plain = plain_settings(text)
        assert plain is not None and plain == pyyaml_settings(text), found
        assert gitbook_summary_location(text) == ("", "SUMMARY.md")


def test_a_long_line_is_read_in_linear_time() -> None:
    text = "redirects:\n  " + "a/" * 200_000 + ": b\n" + "root: " + "c" * 400_000 + "\n"
    assert plain_settings(text) == {"root": "c" * 400_000}
