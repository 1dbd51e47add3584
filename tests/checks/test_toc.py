"""Tables of contents: GitBook SUMMARY.md, .gitbook.yaml, Sphinx toctree, and `listed`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rapidvet.checks.toc import gitbook_summary_location, listed, summary_paths, toctree_paths

# ---------------------------------------------------------------- GitBook SUMMARY.md

SUMMARY = """# Table of contents

* [Handbook](README.md)

## Company

* [About](company/about/README.md)
  * [Terms](company/about/terms.md#glossary)
  * [Team \\(MLT\\)](./company/about/../team.md "Link title")
  * [Absolute](/operations/sre.md)
  * [Spaced](<company/two words.md>)
  * [Encoded](company/caf%C3%A9.md)
  * [Folder](operations/finance/)
  * [Reference][ref]
* [External](https://example.com/page.md)
* [Mail](mailto:someone@example.com)
* [Anchor only](#company)
* [Outside](../elsewhere.md)

```
* [In a code block](code/ignored.md)
```

[ref]: company/referenced.md
"""

SUMMARY_PATHS = {
    "README.md",
    "company/about/README.md",
    "company/about/terms.md",
    "company/team.md",
    "operations/sre.md",
    "company/two words.md",
    "company/café.md",
    "operations/finance",
    "company/referenced.md",
}


def test_summary_paths_at_repository_root() -> None:
    assert summary_paths(SUMMARY) == SUMMARY_PATHS


def test_summary_paths_in_a_folder() -> None:
    paths = summary_paths(SUMMARY, "docs")
    assert "docs/company/team.md" in paths
    assert "docs/operations/sre.md" in paths  # `/` is the GitBook root, here the same folder
    assert "elsewhere.md" in paths  # `../` from docs/ stays inside the repository
    assert len(paths) == len(SUMMARY_PATHS) + 1


def test_summary_absolute_links_resolve_against_the_gitbook_root() -> None:
    paths = summary_paths("* [A](/a.md)\n* [B](b.md)\n", "docs/product", root="docs")
    assert paths == {"docs/a.md", "docs/product/b.md"}


def test_summary_without_links() -> None:
    assert summary_paths("") == frozenset()
    assert summary_paths("# Table of contents\n\n## Company\n") == frozenset()


@pytest.mark.parametrize(
    ("yaml_text", "location"),
    [
        ("root: ./\n\nstructure:\n   summary: SUMMARY.md\n", ("", "SUMMARY.md")),
        (
            "root: ./docs/\nstructure:\n  summary: ./product/SUMMARY.md\n",
            ("docs", "docs/product/SUMMARY.md"),
        ),
        ("root: docs\n", ("docs", "docs/SUMMARY.md")),
        ("structure:\n  readme: README.md\n", ("", "SUMMARY.md")),
        ("root: /\n", ("", "SUMMARY.md")),
        ("root: ../outside\n", ("", "SUMMARY.md")),
        ("", ("", "SUMMARY.md")),
        ("- a list\n", ("", "SUMMARY.md")),
        ("root: [unclosed\n", ("", "SUMMARY.md")),
        ("root: 3\nstructure: flat\n", ("", "SUMMARY.md")),
    ],
)
def test_gitbook_summary_location(yaml_text: str, location: tuple[str, str]) -> None:
    assert gitbook_summary_location(yaml_text) == location


def test_corpus_gitbook_config(corpus: Path) -> None:
    for folder in ("toc/handbook", "handbook-head"):
        text = (corpus / folder / ".gitbook.yaml").read_text(encoding="utf-8")
        assert gitbook_summary_location(text) == ("", "SUMMARY.md")


@pytest.fixture(scope="module")
def head_toc(corpus: Path) -> frozenset[str]:
    root, summary = gitbook_summary_location((corpus / "handbook-head/.gitbook.yaml").read_text())
    return summary_paths((corpus / "handbook-head" / summary).read_text(encoding="utf-8"), root)


def test_corpus_summary_lists_known_pages(head_toc: frozenset[str]) -> None:
    assert "operations/operations/mlt-cadence/mlt-cadence-v2mom.md" in head_toc
    assert "operations/operations/company-metrics/company-v2mom-metrics.md" in head_toc
    assert "operations/research-and-development/organization/tech_writing.md" in head_toc  # was /…
    assert "README.md" in head_toc
    # 285 links, two targets listed twice: grep -oE "\]\([^)]*\)" SUMMARY.md | sort -u
    assert len(head_toc) == 283


def test_corpus_head_pages_listed(corpus: Path, head_toc: frozenset[str]) -> None:
    head = corpus / "handbook-head"
    pages = sorted(p.relative_to(head).as_posix() for p in head.rglob("*.md"))
    listed_pages = [p for p in pages if listed(p, head_toc)]
    # Independent count: the same link targets by plain regex, intersected with the files
    # (comm -12 on the two sorted lists gives 280; three targets have no file).
    targets = {
        t.lstrip("/") for t in re.findall(r"\]\(([^)]*)\)", (head / "SUMMARY.md").read_text())
    }
    assert len(pages) == 357
    assert len(listed_pages) == len(targets & set(pages)) == 280
    assert not listed("SUMMARY.md", head_toc)
    assert not listed("company/archive/mlt-cadence-vpmom.md", head_toc)
    assert listed("operations/operations/mlt-cadence/mlt-cadence-v2mom.md", head_toc)


# ---------------------------------------------------------------- Sphinx toctree

TOCTREE = """Title
=====

.. toctree::
   :maxdepth: 2
   :caption: Contents

   intro
   guide.rst
   Guide for staff <staff/guide>
   ../shared/page
   /top/level.md
   self
   https://example.com/
   Site <https://example.com/>
   weird*name

Some text.

.. note::

   .. toctree::
      :glob:
      :hidden:

      /sop/operations*
      parts/**
      Literal <stars*>

.. toctree::
"""


def test_toctree_paths() -> None:
    assert toctree_paths(TOCTREE, "source/guides", source_root="source") == {
        "source/guides/intro",
        "source/guides/guide",
        "source/guides/staff/guide",
        "source/shared/page",
        "source/top/level",
        "source/guides/weird[*]name",  # no :glob: here, so the star is literal
        "source/sop/operations*",
        "source/guides/parts/**",
        "source/guides/stars[*]",  # explicit titles are never globbed, as in Sphinx
    }


def test_toctree_without_directive() -> None:
    assert toctree_paths("Title\n=====\n\n.. note:: toctree\n\n   text\n", "") == frozenset()


def test_toctree_entries_leaving_the_repository_are_dropped() -> None:
    assert toctree_paths(".. toctree::\n\n   ../../up\n", "source") == frozenset()


def test_corpus_sphinx_toctrees(corpus: Path) -> None:
    folder = corpus / "toc/handbook-1"

    def paths(name: str) -> frozenset[str]:
        base = name.removesuffix(".rst").replace("__", "/").rpartition("/")[0]
        return toctree_paths((folder / name).read_text(), base, source_root="source")

    assert paths("source__index.rst") == {
        "source/about/about-mattermost",
        "source/guides/how-to-contribute",
        "source/onboard/onboarding",
        "source/leadership/leadership-meetings",
        "source/guides/operations",
        "source/guides/join-us",
    }
    assert paths("source__guides__operations.rst") == {
        "source/sop/operations*",
        "source/sop/metrics*",
    }
    assert len(paths("source__onboard__onboarding.rst")) == 9
    assert paths("source__guides__how-to-contribute.rst") == frozenset()  # options only

    toc = frozenset().union(*(paths(p.name) for p in folder.glob("*.rst")))
    assert listed("source/sop/operations.md", toc)  # the VPMOM page, through its glob
    assert listed("source/staff/rd-onboarding.rst", toc)
    assert listed("source/guides/operations.rst", toc)
    assert not listed("source/sop/vpmom.md", toc)
    assert not listed("source/people/hiring.md", toc)


# ---------------------------------------------------------------- listed


@pytest.mark.parametrize(
    ("path", "toc"),
    [
        ("a/x.md", {"a/x.md"}),
        ("a/x.md", {"a/x"}),
        ("a/x.rst", {"a/x"}),
        ("a/x", {"a/x.md"}),
        ("a/x.rst", {"a/x.md"}),
        ("a/README.md", {"a/"}),
        ("a/README.md", {"a"}),
        ("a/readme.md", {"a/README.md"}),
        ("a/README.md", {"a/README"}),
        ("README.md", {"README.md"}),
        ("/a/x.md", {"a/x.md"}),
        ("./a/../a/x.md", {"a/x.md"}),
        ("sop/operations.md", {"sop/operations*"}),
        ("sop/operations-2019.md", {"sop/operations*"}),
        ("sop/x/deep.md", {"sop/**"}),
        ("sop/a.md", {"sop/?.md", "sop/[abc]"}),
        ("sop/weird*name.md", {"sop/weird[*]name"}),
    ],
)
def test_listed(path: str, toc: set[str]) -> None:
    assert listed(path, frozenset(toc))


@pytest.mark.parametrize(
    ("path", "toc"),
    [
        ("a/x.md", set()),
        ("a/x.md", {"a/y.md"}),
        ("a/x.md", {"x.md"}),
        ("b/a/x.md", {"a/x.md"}),
        ("a/x.md", {"a"}),  # a folder lists its README, not every page in it
        ("a/index.md", {"a"}),
        ("a/README.md", {"README.md"}),
        ("sop/x/deep.md", {"sop/*"}),  # `*` stays in one folder
        ("sop/b.md", {"sop/[!b]"}),
        ("sop/weirdXname.md", {"sop/weird[*]name"}),
        ("../x.md", {"x.md"}),
        ("", {""}),
    ],
)
def test_not_listed(path: str, toc: set[str]) -> None:
    assert not listed(path, frozenset(toc))


@given(st.text(), st.text(max_size=20))
def test_parsers_never_raise(text: str, base: str) -> None:
    for path in summary_paths(text, base) | toctree_paths(text, base):
        assert not path.startswith(("/", "../")) and path not in {"", ".", ".."}
        listed(path, frozenset({text}))
    gitbook_summary_location(text)


@given(
    st.lists(st.sampled_from(["* [x](", "a/", "b.md", ")", "\n", "../", "/", "#", "%20", "<", ">"]))
)
@example(["* [x](", "<", "* [x](", ">"])  # a link to `* [x](`: glob characters, yet literal
def test_summary_on_link_like_text(parts: list[str]) -> None:
    for path in summary_paths("".join(parts), "docs"):
        assert listed(path, summary_paths("".join(parts), "docs"))
