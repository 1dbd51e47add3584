"""Merge recording: each rule on small made-up pages, idempotence as a property, and byte
preservation on every page of the real corpus (read in place)."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapidvet.checks.dates import format_date, is_unset, parse_date
from rapidvet.checks.model import Block
from rapidvet.checks.parse import parse_blocks
from rapidvet.workflows.changes import BlockKey, block_hashes
from rapidvet.workflows.merge_message import merge_record_marker
from rapidvet.workflows.merge_record import (
    Approval,
    BlockDecision,
    MergedFile,
    MergedPullRequest,
    MergeRecord,
    record_merge,
)
from rapidvet.workflows.previous_versions import entries, with_newest
from tests.support.strategies import STYLES

PATH = "ops/plan.md"
BASE_SHA = "1f3a" * 10
PR = MergedPullRequest(
    number=42,
    merged_at=datetime(2020, 1, 31, 18, 5, tzinfo=UTC),
    base_sha=BASE_SHA,
    head_sha="2b4c" * 10,
    merge_sha="3d5e" * 10,
    web_url="https://github.com",
    owner="acme",
    repo="handbook",
)
# The base version of the page, at the plan's heading ("## FY20 Ops VPMOM").
URL = f"https://github.com/acme/handbook/blob/{BASE_SHA}/ops/plan.md#fy20-ops-vpmom"
OLD = "[May 1, 2019](https://example.com/v1)"
SECTIONS = (
    "Vision\n- Be the best.\n\nPriorities\n- p\n\nMethods\n- m\n\nObstacles\n- o\n\nMeasures\n- 3\n"
)


def table(vetted="May 1, 2019", previous=OLD, *, period="May 1, 2019 to Jan 31, 2020"):
    rows = [f"|Period| {period}|", "|:---|:---|", "| RAPID | IJT(D), MLT(R, A, P & I) |"]
    if vetted is not None:
        rows.append(f"| Vetted date | {vetted} |")
    if previous is not None:
        rows.append(f"| Previous versions | {previous} |")
    return "\n".join(rows) + "\n"


def page(title="FY20 Ops VPMOM", meta=None, sections=SECTIONS):
    meta = table() if meta is None else meta
    return f"## {title}\n\n{meta}\n{sections}"


def keys(text, path=PATH):
    """Every block's key, in page order (as workflows.changes makes them)."""
    return list(block_hashes(path, text))


def record(text, *, base=..., pick=None, limit=5, pr=PR, tz=UTC, path=PATH) -> MergeRecord:
    """Record every block of `text` (or those whose titles contain `pick`); the base
    version is `text` itself unless given."""
    chosen = [k for k in keys(text, path) if pick is None or pick.casefold() in k.title]
    merged = MergedFile(path, text, text if base is ... else base)
    return record_merge(pr, [merged], [BlockDecision(k) for k in chosen], limit=limit, timezone=tz)


def new_text(text, **kwargs) -> str:
    return record(text, **kwargs).files[0].new_text


def value(text, key, index=0) -> str:
    row = parse_blocks(text)[index].row(key)
    assert row is not None, key
    return row.value


def lines_with_endings(text):
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


# --- Vetted date: the merge date in the document's style ------------------------------


@pytest.mark.parametrize(
    ("vetted", "period", "expected"),
    [
        ("May 1, 2019", "May 1, 2019 to Jan 31, 2020", "January 31, 2020"),
        ("Jan 1, 2020", "May 1, 2019 to Jan 31, 2020", "Jan 31, 2020"),
        ("2019-05-01", "May 1, 2019 to Jan 31, 2020", "2020-01-31"),
        ("1st May, 2019", "May 1, 2019 to Jan 31, 2020", "31st January, 2020"),
        ("JAN. 02, 2020", "May 1, 2019 to Jan 31, 2020", "JAN. 31, 2020"),
        ("TBD", "May 1, 2019 to Jan 31, 2020", "January 31, 2020"),
        ("TBD", "2019-05-01 to 2020-01-31", "2020-01-31"),
        ("", "Sept 1, 2019 to Jan 31, 2020", "Jan 31, 2020"),
        ("soon", "1 May 2019 to 31 Jan 2020", "31 January 2020"),
        ("TBD", "Q3", "January 31, 2020"),
    ],
)
def test_vetted_date_is_the_merge_date_in_the_page_style(vetted, period, expected):
    text = page(meta=table(vetted, period=period))
    assert value(new_text(text), "vetted date") == expected


def test_without_vetted_or_period_the_default_style_is_used():
    meta = "| RAPID | IJT(D) |\n|:---|:---|\n| Vetted date | TBD |\n"
    assert value(new_text(page(meta=meta)), "vetted date") == "January 31, 2020"


@pytest.mark.parametrize(
    ("merged_at", "zone", "expected"),
    [
        (datetime(2020, 1, 31, 23, 30, tzinfo=UTC), UTC, "January 31, 2020"),
        (
            datetime(2020, 1, 31, 23, 30, tzinfo=UTC),
            timezone(timedelta(hours=9)),
            "February 1, 2020",
        ),
        (datetime(2020, 2, 1, 3, 0, tzinfo=UTC), timezone(timedelta(hours=-8)), "January 31, 2020"),
        (datetime(2020, 2, 1, 8, 0, tzinfo=timezone(timedelta(hours=9))), UTC, "January 31, 2020"),
    ],
)
def test_merge_date_is_taken_in_the_given_timezone(merged_at, zone, expected):
    pr = replace(PR, merged_at=merged_at)
    assert value(new_text(page(), pr=pr, tz=zone), "vetted date") == expected


def test_bad_input_is_refused():
    naive = replace(PR, merged_at=datetime(2020, 1, 31))
    with pytest.raises(ValueError, match="timezone-aware"):
        record(page(), pr=naive)
    with pytest.raises(ValueError, match="limit"):
        record(page(), limit=0)
    key = keys(page())[0]
    with pytest.raises(ValueError, match="two decisions"):
        record_merge(PR, [MergedFile(PATH, page(), page())], [BlockDecision(key)] * 2)
    late = BlockDecision(key, (Approval("ann", "D", datetime(2020, 1, 30)),))
    with pytest.raises(ValueError, match="timezone-aware"):
        record_merge(PR, [MergedFile(PATH, page(), page())], [late])


# --- Previous versions -----------------------------------------------------------------


def test_previous_version_link_is_prepended_with_the_base_vetted_date():
    result = record(page())
    assert value(result.files[0].new_text, "previous versions") == f"[May 1, 2019]({URL}), {OLD}"
    block = result.files[0].blocks[0]
    assert (block.previous.label, block.previous.url) == ("May 1, 2019", URL)


def test_label_is_the_vetted_date_of_the_base_version_as_written():
    base = page(meta=table("Apr 2, 2019"))
    merged = page(meta=table("March 3, 2019"))  # the pull request edited the date itself
    text = new_text(merged, base=base)
    assert value(text, "previous versions") == f"[Apr 2, 2019]({URL}), {OLD}"
    assert value(text, "vetted date") == "January 31, 2020"


@pytest.mark.parametrize("unset", ["TBD", "", "(TBA)", "N/A", "-"])
def test_never_vetted_base_gets_no_link(unset):
    base = page(meta=table(unset))
    result = record(base)
    assert value(result.files[0].new_text, "previous versions") == OLD
    assert result.files[0].blocks[0].previous is None


def test_block_or_file_added_by_the_pull_request_gets_no_link():
    assert value(new_text(page(), base=None), "previous versions") == OLD
    other = page(title="FY20 Other VPMOM")
    assert value(new_text(page(), base=other), "previous versions") == OLD


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("[Apr 1, 2019](https://x/1)<br>[Mar 1, 2019](https://x/2)", "<br>"),
        ("[Apr 1, 2019](https://x/1) <br/> [Mar 1, 2019](https://x/2)", " <br/> "),
        ("[Apr 1, 2019](https://x/1); [Mar 1, 2019](https://x/2)", "; "),
        ("[Apr 1, 2019](https://x/1)", ", "),
        ("[Apr 1, 2019](https://x/1)[Mar 1, 2019](https://x/2)", ", "),
    ],
)
def test_new_link_is_separated_the_way_the_cell_separates_its_entries(cell, expected):
    assert with_newest(cell, "[new](u)", 5) == f"[new](u){expected}{cell}"


@pytest.mark.parametrize("unset", ["", "TBD", "N/A", "-", "none"])
def test_an_unset_cell_is_replaced_by_the_link(unset):
    assert with_newest(unset, "[new](u)", 5) == "[new](u)"


LINKS = [f"[{m} 1, 2019](https://x.org/{m})" for m in ("Jun", "May", "Apr", "Mar", "Feb")]


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 6, 9])
def test_limit_drops_the_oldest_and_keeps_the_rest_byte_for_byte(limit):
    cell = ", ".join(LINKS[:2]) + "<br>" + ", ".join(LINKS[2:])
    text = new_text(page(meta=table(previous=cell)), limit=limit)
    kept = value(text, "previous versions")
    assert kept.startswith(f"[May 1, 2019]({URL})")
    assert len(entries(kept)) == min(limit, 6)
    rest = kept[len(f"[May 1, 2019]({URL}), ") :]
    assert limit == 1 or cell.startswith(rest)


def test_cell_entries_are_read_robustly():
    cell = (
        r"[May \[1\], 2019](https://x.org/a_(b)) <br>"
        ' [[draft] Apr 1](<https://x.org/c d> "title"), <https://x.org/auto>,'
        " see https://x.org/bare_(1). Q1 2019 (wiki), ![img](https://x.org/i.png)"
    )
    found = entries(cell)
    assert [e.target for e in found] == [
        "https://x.org/a_(b)",
        "https://x.org/c d",
        "https://x.org/auto",
        None,
        "https://x.org/bare_(1)",
        None,
        "https://x.org/i.png",
    ]
    assert [cell[e.start : e.end] for e in found if e.target is None] == ["see", ". Q1 2019 (wiki)"]
    assert with_newest(cell, "[n](u)", 3) == "[n](u) <br> " + cell[: found[1].end]


def test_plain_text_entries_keep_their_commas():
    cell = "May 1, 2019 (wiki page)<br>Feb 1, 2019"
    assert [cell[e.start : e.end] for e in entries(cell)] == [
        "May 1, 2019 (wiki page)",
        "Feb 1, 2019",
    ]
    assert with_newest(cell, "[n](u)", 2) == "[n](u)<br>May 1, 2019 (wiki page)"


def test_link_label_with_brackets_is_escaped():
    text = page(meta=table("[May 1, 2019]"))  # not a date: kept as written, escaped
    assert value(new_text(text), "previous versions").startswith(rf"[\[May 1, 2019\]]({URL})")


def test_permalink_path_is_url_quoted():
    path = "ops/FY20 plan (draft)#1.md"
    text = new_text(page(), path=path)
    quoted = (
        f"https://github.com/acme/handbook/blob/{BASE_SHA}/ops/FY20%20plan%20%28draft%29%231.md"
        "#fy20-ops-vpmom"
    )
    assert value(text, "previous versions") == f"[May 1, 2019]({quoted}), {OLD}"


def test_each_plan_links_its_own_heading_in_the_base_version():
    bold = f"**FY20 Bold VPMOM**\n\n{table()}\n{SECTIONS}"
    text = "\n".join([page(), page(), page("Café 🚀 VPMOM"), bold])
    urls = [b.previous.url for f in record(text).files for b in f.blocks if b.previous]
    base = URL.split("#")[0]
    assert urls == [
        f"{base}#fy20-ops-vpmom",
        f"{base}#fy20-ops-vpmom-1",  # a duplicate heading's, as GitHub numbers them
        f"{base}#caf%C3%A9--vpmom",
        base,  # a bold title is no heading: GitHub gives it no anchor
    ]


def test_a_link_to_the_base_version_is_never_added_twice():
    cell = f"{OLD}, [Apr 1, 2019]({URL})"  # already listed, though not first
    text = page(meta=table("Jan 31, 2020", cell))
    assert record(text).changed is False


def test_second_merge_on_the_same_day_links_the_first_one():
    first = new_text(page())
    pr = replace(PR, base_sha="9" * 40, merge_sha="8" * 40)
    second = value(new_text(first, pr=pr), "previous versions")
    assert second.startswith(
        f"[January 31, 2020](https://github.com/acme/handbook/blob/{'9' * 40}/"
    )
    assert second.endswith(f"[May 1, 2019]({URL}), {OLD}")


# --- Cells rewritten in place, rows and tables added -----------------------------------


def test_only_the_two_value_cells_change():
    text = page()
    old, new = lines_with_endings(text), lines_with_endings(new_text(text))
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert changed == [
        ("| Vetted date | May 1, 2019 |\n", "| Vetted date | January 31, 2020 |\n"),
        (
            f"| Previous versions | {OLD} |\n",
            f"| Previous versions | [May 1, 2019]({URL}), {OLD} |\n",
        ),
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("| Vetted date | |", "| Vetted date | January 31, 2020 |"),
        ("|Vetted date||", "|Vetted date|January 31, 2020|"),
        ("| Vetted date |", "| Vetted date | January 31, 2020 |"),
        ("| Vetted date | TBD |   ", "| Vetted date | January 31, 2020 |   "),
    ],
)
def test_empty_and_missing_value_cells_are_filled(row, expected):
    meta = f"|Period| May 1, 2019 to Jan 31, 2020|\n|:---|:---|\n{row}\n| Previous versions | x |\n"
    text = new_text(page(meta=meta))
    assert expected + "\n" in text
    assert value(text, "vetted date") == "January 31, 2020"


def test_missing_rows_are_appended_in_the_table_style():
    meta = "|Period| May 1, 2019 to Jan 31, 2020|\n|:---|:---|\n|RAPID| IJT(D) |  \n"
    text = new_text(page(meta=meta), base=page())
    assert (
        "|RAPID| IJT(D) |  \n"
        "|Vetted date| January 31, 2020 |\n"
        f"|Previous versions| [May 1, 2019]({URL}) |\n\nVision"
    ) in text


def test_missing_previous_versions_row_is_appended_after_the_last_row():
    text = new_text(page(meta=table("TBD", None)))
    assert "| Vetted date | January 31, 2020 |\n| Previous versions | |\n\nVision" in text


def test_header_only_table_gets_its_rows_under_the_delimiter():
    text = new_text(page(meta="| Period | May 1, 2019 to Jan 31, 2020 |\n|---|---|\n"))
    assert text.startswith(
        "## FY20 Ops VPMOM\n\n| Period | May 1, 2019 to Jan 31, 2020 |\n|---|---|\n"
        "| Vetted date | January 31, 2020 |\n| Previous versions | |\n\nVision"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("## FY20 Ops VPMOM\n\nVision", "## FY20 Ops VPMOM\n\n{table}\nVision"),
        ("## FY20 Ops VPMOM\nVision", "## FY20 Ops VPMOM\n\n{table}\nVision"),
        (
            "FY20 Ops VPMOM\n==============\n\nVision",
            "FY20 Ops VPMOM\n==============\n\n{table}\nVision",
        ),
        ("**FY20 Ops VPMOM**\n\nVision", "**FY20 Ops VPMOM**\n\n{table}\nVision"),
    ],
)
def test_a_block_without_table_gets_one_under_its_title(head, expected):
    text = head + SECTIONS[len("Vision") :]
    inserted = "| Vetted date | January 31, 2020 |\n|:---|:---|\n| Previous versions | |\n"
    assert new_text(text).startswith(expected.format(table=inserted))
    block = parse_blocks(new_text(text))[0]
    assert [r.key for r in block.metadata] == ["Vetted date", "Previous versions"]
    assert [s.name for s in block.sections] == [s.name for s in parse_blocks(text)[0].sections]


def test_crlf_is_kept_in_edited_and_added_lines():
    text = page(meta=table("TBD", None)).replace("\n", "\r\n")
    out = new_text(text)
    assert "\n" not in out.replace("\r\n", "")
    assert "| Vetted date | January 31, 2020 |\r\n| Previous versions | |\r\n" in out
    table_less = ("## FY20 Ops VPMOM\n\n" + SECTIONS).replace("\n", "\r\n")
    assert "\n" not in new_text(table_less).replace("\r\n", "")


def test_a_missing_final_newline_stays_missing():
    for text in (page().rstrip("\n"), ("## FY20 Ops VPMOM\n\n" + SECTIONS).rstrip("\n")):
        out = new_text(text)
        assert not out.endswith("\n") and value(out, "vetted date") == "January 31, 2020"
    table_last = "## FY20 Ops VPMOM\n\n" + SECTIONS + "\n" + table("TBD", None).rstrip("\n")
    out = new_text(table_last)
    assert out == table_last.replace("TBD", "January 31, 2020") + "\n| Previous versions | |"


def test_other_blocks_stay_byte_for_byte():
    one, two = page("FY20 Ops VPMOM"), page("FY20 Sales VPMOM")
    text = one + "\n" + two
    out = new_text(text, pick="sales")
    assert out.startswith(one + "\n") and out != text
    assert value(out, "vetted date", 0) == "May 1, 2019"
    assert value(out, "vetted date", 1) == "January 31, 2020"


def test_blocks_sharing_a_title_are_told_apart_by_their_rank():
    text = page() + "\n" + page()
    second = keys(text)[1]
    assert second.index == 1
    out = record_merge(PR, [MergedFile(PATH, text, text)], [BlockDecision(second)])
    assert value(out.files[0].new_text, "vetted date", 0) == "May 1, 2019"
    assert value(out.files[0].new_text, "vetted date", 1) == "January 31, 2020"


def test_a_title_given_as_written_finds_its_block():
    decision = BlockDecision(BlockKey(PATH, "FY20  Ops VPMOM \\(TBA\\)"))
    result = record_merge(PR, [MergedFile(PATH, page(), page())], [decision])
    assert [b.title for b in result.files[0].blocks] == ["FY20 Ops VPMOM"]


def test_placeholders_and_deleted_blocks_are_skipped():
    placeholder = "### FY20 R&D VPMOM (TBA)\n\nNew VPMOM to be added.\n"
    base = page() + "\n" + placeholder + "\n" + page("FY20 Gone VPMOM")
    merged = page() + "\n" + placeholder
    decisions = [BlockDecision(k) for k in keys(base)]
    gone_file = BlockDecision(BlockKey("old.md", "fy20 old vpmom"))
    result = record_merge(PR, [MergedFile(PATH, merged, base)], [*decisions, gone_file])
    assert [(s.title, s.reason.split(":")[0]) for s in result.skipped] == [
        ("fy20 old vpmom", "not in the merged file (deleted by the pull request)"),
        ("FY20 R&D VPMOM (TBA)", "a placeholder"),
        ("FY20 Gone VPMOM", "not in the merged file (deleted by the pull request)"),
    ]
    assert [b.title for b in result.files[0].blocks] == ["FY20 Ops VPMOM"]
    assert placeholder in result.files[0].new_text


def test_several_files_are_recorded_in_one_record():
    other = page("FY20 Sales VPMOM")
    files = [MergedFile(PATH, page(), page()), MergedFile("sales.md", other, other)]
    decisions = [BlockDecision(k) for k in keys(other, "sales.md") + keys(page())]
    result = record_merge(PR, files, decisions)
    assert [f.path for f in result.files] == ["sales.md", PATH]
    assert all(f.changed for f in result.files) and result.changed


# --- Idempotence -----------------------------------------------------------------------


IDEMPOTENT_PAGES = {
    "full table": page(),
    "never vetted": page(meta=table("TBD")),
    "rows missing": page(meta=table(None, None)),
    "no table": "## FY20 Ops VPMOM\n" + SECTIONS,
    "crlf": page().replace("\n", "\r\n"),
    "no final newline": page().rstrip("\n"),
    "two blocks": page() + "\n" + page("FY20 Sales VPMOM", table("Jan 2, 2020", "")),
}


@pytest.mark.parametrize("text", IDEMPOTENT_PAGES.values(), ids=IDEMPOTENT_PAGES.keys())
def test_recording_twice_changes_nothing_the_second_time(text):
    first = record(text)
    assert first.changed
    second = record(first.files[0].new_text, base=text)
    assert not second.changed
    assert second.files[0].new_text == first.files[0].new_text
    assert (second.commit_message, second.comment) == (first.commit_message, first.comment)


DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
VETTED = st.one_of(st.builds(format_date, DATES, STYLES), st.sampled_from(["TBD", "", "soon"]))
ENTRY = st.one_of(
    st.builds(
        lambda d, n: f"[{d}](https://x.org/{n})",
        st.builds(format_date, DATES, STYLES),
        st.integers(0, 99),
    ),
    st.builds(lambda n: rf"[v\]{n} [x]](https://x.org/p_({n}))", st.integers(0, 99)),
    st.builds(lambda n: f"https://x.org/bare/{n}", st.integers(0, 99)),
    st.builds(lambda n: f"Draft {n}, wiki", st.integers(0, 99)),
)
CELL = st.builds(
    lambda items, sep: sep.join(items),
    st.lists(ENTRY, max_size=7),
    st.sampled_from([", ", "<br>", " <br/> ", "; "]),
)


@settings(max_examples=300, deadline=None)
@given(
    vetted=st.one_of(st.none(), VETTED),
    base_vetted=st.one_of(st.none(), VETTED),
    cell=st.one_of(st.none(), CELL),
    has_table=st.booleans(),
    merged_at=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
    ),
    limit=st.integers(1, 8),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
)
def test_recording_is_idempotent_and_keeps_the_newest_entries(
    vetted, base_vetted, cell, has_table, merged_at, limit, newline, final_newline
):
    def make(vetted_value):
        meta = table(vetted_value, cell) if has_table else ""
        text = page(meta=meta).replace("\n", newline)
        return text if final_newline else text.rstrip(newline)

    merged, base = make(vetted), make(base_vetted)
    pr = replace(PR, merged_at=merged_at)
    first = record(merged, base=base, pr=pr, limit=limit)
    out = first.files[0].new_text
    again = record(out, base=base, pr=pr, limit=limit)
    assert not again.changed and again.files[0].new_text == out

    assert parse_date(value(out, "vetted date")).value == merged_at.date()
    old_cell = (cell or "") if has_table else ""
    new_cell = value(out, "previous versions")
    kept = entries(new_cell)
    if has_table and base_vetted is not None and not is_unset(base_vetted):
        assert kept[0].target == URL
        assert len(kept) == min(limit, 1 + len(entries(old_cell)))
        assert len(kept) == 1 or old_cell.startswith(new_cell[kept[1].start :])
    else:
        assert new_cell == old_cell


# --- Commit message and comment --------------------------------------------------------


APPROVED = BlockDecision(
    keys(page())[0],
    approvals=(
        Approval("ann", "A", datetime(2020, 1, 30, 9, 0, tzinfo=UTC), holder="MLT"),
        Approval("ian", "D", datetime(2020, 1, 31, 17, 59, tzinfo=UTC)),
        Approval("bob", "A", datetime(2020, 1, 29, 8, 0, tzinfo=UTC)),
        Approval("Ian", "A", datetime(2020, 1, 28, 8, 0, tzinfo=UTC)),
    ),
    performers=("@acme/ops", "IJT"),
)


def approved_record(tz=UTC):
    sales = page("FY20 Sales | Ops VPMOM", table("TBD"))
    text = page() + "\n" + sales
    decisions = [
        APPROVED,
        BlockDecision(keys(text)[1], (Approval("ian", "D", datetime(2020, 1, 31, tzinfo=UTC)),)),
        BlockDecision(BlockKey(PATH, "fy20 gone vpmom")),
    ]
    return record_merge(PR, [MergedFile(PATH, text, text)], decisions, timezone=tz)


def test_commit_message_has_a_subject_a_body_and_trailers():
    message = approved_record().commit_message
    lines = message.split("\n")
    assert lines[0] == "Record RAPID vetting of #42" and len(lines[0]) <= 72 and lines[1] == ""
    assert "- FY20 Ops VPMOM (ops/plan.md): Vetted date January 31, 2020" in lines
    assert "- FY20 Sales | Ops VPMOM (ops/plan.md): Vetted date January 31, 2020" in lines
    assert lines[-6:] == [
        "",
        "Decided-by: @ian",
        "Agreed-by: @Ian",
        "Agreed-by: @bob",
        "Agreed-by: @ann",
        "Vetted-in: #42",
    ]


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_trailers_parse_with_git_interpret_trailers():
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=approved_record().commit_message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert parsed.splitlines() == [
        "Decided-by: @ian",
        "Agreed-by: @Ian",
        "Agreed-by: @bob",
        "Agreed-by: @ann",
        "Vetted-in: #42",
    ]


def test_comment_is_the_decision_record_with_a_marker():
    comment = approved_record(timezone(timedelta(hours=1))).comment
    assert comment.startswith(merge_record_marker(42, PR.merge_sha) + "\n")
    assert (
        merge_record_marker(42, PR.merge_sha)
        == f"<!-- rapidvet:merge-record pr=42 merge={PR.merge_sha} -->"
    )
    assert f"Merged as {PR.merge_sha} (head {PR.head_sha}) on 2020-01-31 19:05 UTC+01:00" in comment
    ops = comment[comment.index("#### FY20 Ops VPMOM") : comment.index("#### FY20 Sales")]
    assert f"Vetted date **January 31, 2020** · previous version: [May 1, 2019]({URL})" in ops
    assert [line for line in ops.split("\n") if line.startswith("| ")] == [
        "| Role | Who | |",
        "| D | @ian | approved 2020-01-31 18:59 UTC+01:00 |",
        "| A | @Ian | approved 2020-01-28 09:00 UTC+01:00 |",
        "| A | @bob | approved 2020-01-29 09:00 UTC+01:00 |",
        "| A | @ann for MLT | approved 2020-01-30 10:00 UTC+01:00 |",
        "| P | @acme/ops | to act |",
        "| P | IJT | to act |",
    ]
    assert r"#### FY20 Sales \| Ops VPMOM" in comment
    assert "previous version: none (first vetted version)" in comment
    assert comment.endswith(
        "#### Not recorded\n\n- fy20 gone vpmom in `ops/plan.md`: "
        "not in the merged file (deleted by the pull request)\n"
    )


# --- The real corpus: every byte outside the two cells is kept --------------------------


def corpus_pages(corpus: Path) -> list[tuple[Path, str]]:
    files = sorted((corpus / "vpmom").rglob("*.md"))
    return [(f, f.read_bytes().decode("utf-8")) for f in files]


def line_map(old: list[str], new: list[str]) -> tuple[dict[int, int], list, list]:
    """Old line -> new line for every old line still there (1-based), the lines
    rewritten as (line, before, after), and the lines added as (after line, lines).
    No old line may be gone. A rewrite followed by added lines reads as one longer
    replacement in difflib: its first lines pair up, the rest are added after it."""
    moved, replaced, inserted = {}, [], []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        assert tag != "delete" and i2 - i1 <= j2 - j1, (old[i1:i2], new[j1:j2])
        paired = j1 + i2 - i1
        moved.update({i1 + n + 1: j1 + n + 1 for n in range(i2 - i1)})
        if tag == "replace":
            replaced += list(zip(range(i1 + 1, i2 + 1), old[i1:i2], new[j1:paired], strict=True))
        if paired < j2:
            inserted.append((i2, new[paired:j2]))
    return moved, replaced, inserted


def shape(block: Block, move=lambda n: n, skip=("vetted date", "previous versions")):
    return (
        block.title,
        block.kind,
        block.heading_level,
        move(block.line),
        tuple(
            (
                s.name,
                s.label,
                move(s.line),
                move(s.end_line),
                tuple((i.text, move(i.line)) for i in s.items),
            )
            for s in block.sections
        ),
        tuple(
            (r.key, r.value, move(r.line), r.value_start, r.value_end)
            for r in block.metadata
            if r.key.casefold() not in skip
        ),
    )


MERGED_ON = "January 31, 2020"
INSERTED_TABLE = ["| Vetted date | January 31, 2020 |", "|:---|:---|", "| Previous versions | |"]


def recorded_alone(text: str, key: BlockKey) -> MergeRecord:
    return record_merge(PR, [MergedFile(PATH, text, text)], [BlockDecision(key)])


def assert_same_blocks(file, blocks, again, moved, recorded):
    """Re-parsed, the page has the same blocks at their moved lines; the recorded one
    reads the merge date and is otherwise the same but for its two rows."""
    assert [b.title for b in again] == [b.title for b in blocks], file
    for n, (old, new) in enumerate(zip(blocks, again, strict=True)):
        skip = ("vetted date", "previous versions") if n == recorded else ()
        assert shape(new, skip=skip) == shape(old, moved.__getitem__, skip=skip), file
    assert again[recorded].row("vetted date").value == MERGED_ON, file


def test_corpus_tables_change_only_in_the_value_cells(corpus):
    tables = links = appended = 0
    for file, text in corpus_pages(corpus):
        blocks = parse_blocks(text)
        for n, (key, block) in enumerate(zip(keys(text), blocks, strict=True)):
            if not block.metadata:
                continue
            tables += 1
            result = recorded_alone(text, key)
            out = result.files[0].new_text
            moved, replaced, inserted = line_map(lines_with_endings(text), lines_with_endings(out))
            rows = [block.row("vetted date"), block.row("previous versions")]
            spans = {row.line: row for row in rows if row}
            for number, before, after in replaced:
                row = spans[number]  # no other line changed
                assert after.startswith(before[: row.value_start]), (file, before, after)
                assert after.endswith(before[row.value_end :]), (file, before, after)
            # Missing rows, and only they, are appended right under the table's last row.
            added = [line for at, lines in inserted for line in lines]
            assert all(at == max(r.line for r in block.metadata) for at, _ in inserted), file
            assert len(spans) + len(added) == 2, file
            appended += len(added)
            assert_same_blocks(file, blocks, parse_blocks(out), moved, n)
            links += result.files[0].blocks[0].previous is not None
    assert tables >= 28 and links >= 20 and appended >= 8


def test_corpus_blocks_without_table_only_gain_lines(corpus):
    tableless = placeholders = 0
    for file, text in corpus_pages(corpus):
        blocks = parse_blocks(text)
        for n, (key, block) in enumerate(zip(keys(text), blocks, strict=True)):
            if block.metadata:
                continue
            result = recorded_alone(text, key)
            out = result.files[0].new_text
            if block.placeholder is not None:
                placeholders += 1
                assert out == text and result.skipped[0].reason.startswith("a placeholder")
                continue
            tableless += 1
            old_lines = lines_with_endings(text)
            moved, replaced, inserted = line_map(old_lines, lines_with_endings(out))
            assert replaced == [] and len(moved) == len(old_lines), file
            # One table under the title (difflib may place it after a blank line).
            [(at, added)] = inserted
            assert block.line <= at and not "".join(old_lines[block.line : at]).strip(), file
            assert [line.strip() for line in added if line.strip()] == INSERTED_TABLE, file
            assert_same_blocks(file, blocks, parse_blocks(out), moved, n)
    assert tableless >= 50 and placeholders >= 100


@pytest.mark.slow
def test_corpus_pages_recorded_whole_equal_recorded_block_by_block(corpus):
    for file, text in corpus_pages(corpus):
        decisions = [BlockDecision(k) for k in keys(text)]
        whole = record_merge(PR, [MergedFile(PATH, text, text)], decisions).files
        stepped = text
        for decision in decisions:
            stepped = (
                record_merge(PR, [MergedFile(PATH, stepped, text)], [decision]).files[0].new_text
            )
        assert (whole[0].new_text if whole else text) == stepped, file
        assert not record(stepped, base=text).changed, file


# --- Merges past the RAPID review are not vettings ---------------------------------------


def decided(*reviews, failure=None):
    """The block decisions of the builders' block under D @dee, A @ann, I @ivy."""
    from rapidvet.workflows.decision import decide
    from rapidvet.workflows.merge_record import block_decisions
    from tests.support import review_builders as b

    cfg = b.config(b.rule(D="@dee", A="@ann", I="@ivy"))
    return block_decisions(decide(b.request(cfg, [b.changed()], reviews)).rows, failure)


def test_a_block_approved_by_every_blocking_role_misses_nothing():
    from tests.support.review_builders import review

    (decision,) = decided(review("dee"), review("ann"), review("ivy", "COMMENTED"))
    assert decision.missing == ()
    assert [a.login for a in decision.approvals] == ["dee", "ann"]


def test_missing_approvals_and_vetoes_are_named():
    from tests.support.review_builders import review

    (waiting,) = decided(review("ann"))
    assert waiting.missing == ("D @dee: waiting",)
    (vetoed,) = decided(review("dee"), review("ann", "CHANGES_REQUESTED"))
    assert vetoed.missing == ("A @ann: changes requested by @ann",)


def test_a_review_failing_as_a_whole_leaves_every_block_unvetted():
    from tests.support.review_builders import review

    (decision,) = decided(review("dee"), review("ann"), failure="the RAPID review failed: x")
    assert decision.missing == ("the RAPID review failed: x",)


def test_an_unvetted_plan_is_left_alone_and_the_comment_says_whose_approval_was_missing():
    text = page("FY20 Ops_VPMOM") + "\n" + page("FY20 Sales VPMOM")
    ops, sales = keys(text)
    decisions = [
        BlockDecision(ops, missing=("D IJT (@ian): waiting", "A *MLT*: stale")),
        BlockDecision(sales, (Approval("ian", "D", datetime(2020, 1, 31, tzinfo=UTC)),)),
    ]
    out = record_merge(PR, [MergedFile(PATH, text, text)], decisions)
    (file,) = out.files
    assert [b.title for b in file.blocks] == ["FY20 Sales VPMOM"]
    assert file.new_text.split("## FY20 Sales")[0] == text.split("## FY20 Sales")[0]
    assert [s.title for s in out.unvetted] == [ops.title]
    assert out.comment.endswith(
        "#### Merged without vetting\n\nTheir RAPID review had not succeeded, so their Vetted"
        " date and Previous versions are left as they were:\n\n"
        r"- fy20 ops\_vpmom in `ops/plan.md`: missing approval: D IJT (@ian): waiting;"
        r" A \*MLT\*: stale"
        "\n"
    )
    assert "ops" not in out.commit_message.split("\n\n")[1].casefold()
    recorded = record_merge(PR, [MergedFile(PATH, text, text)], decisions, record_unvetted=True)
    assert recorded.unvetted == () and len(recorded.files[0].blocks) == 2
    assert "Merged without vetting" not in recorded.comment
