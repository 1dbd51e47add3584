"""Who holds which role for a block, and where that was written."""

from __future__ import annotations

import pytest

from rapidvet.workflows.config_loader import load_config
from rapidvet.workflows.roles import (
    UNOWNED,
    Holder,
    Origin,
    RoleSource,
    block_roles,
    config_roles,
    differs,
    document_roles,
    mismatched_roles,
    resolve_holder,
    title_matches,
)
from tests.support.review_builders import block, config, rule

ALIASES = {"IJT": "@ianjt", "MLT": "@acme/mlt", "AS": "asmith"}


@pytest.mark.parametrize(
    ("name", "handle", "login", "team"),
    [
        ("@jane", "@jane", "jane", None),
        ("@acme/mlt", "@acme/mlt", None, "mlt"),
        ("IJT", "@ianjt", "ianjt", None),
        ("MLT", "@acme/mlt", None, "mlt"),
        ("AS", "@asmith", "asmith", None),  # an alias value without "@" is still a handle
        ("XYZ", None, None, None),
    ],
)
def test_resolve_holder(name, handle, login, team):
    holder = resolve_holder(name, ALIASES)
    assert (holder.handle, holder.login, holder.team) == (handle, login, team)


def test_holder_shows_alias_and_handle_and_compares_without_case():
    assert str(resolve_holder("IJT", ALIASES)) == "IJT (@ianjt)"
    assert str(resolve_holder("@jane", ALIASES)) == "@jane"
    assert str(resolve_holder("XYZ", ALIASES)) == "XYZ"
    assert Holder("@Jane", "@Jane").key == Holder("@jane", "@jane").key


@pytest.mark.parametrize(
    ("pattern", "title", "matches"),
    [
        ("Sales VPMOM", "FY21 Sales VPMOM", True),
        ("sales vpmom", "FY21 SALES VPMOM (TBA)", True),
        ("Sales VPMOM", "FY21 Marketing VPMOM", False),
        ("FY2? Sales VPMOM", "FY21 Sales VPMOM", True),
        ("FY2? Sales VPMOM", "Inside FY21 Sales VPMOM", False),  # a glob matches the whole title
        ("*Sales*", "Inside FY21 Sales VPMOM", True),
        ("[FY21] Sales*", "[FY21] Sales VPMOM", True),  # brackets are literal, as in CODEOWNERS
        ("[FY21] Sales*", "F Sales VPMOM", False),
    ],
)
def test_title_matches(pattern, title, matches):
    assert title_matches(pattern, title) is matches


def test_last_matching_entry_wins_and_records_its_line():
    cfg = config(rule("ops/**", 4, D="@first"), rule("ops/*.md", 9, D="@second"))
    roles = config_roles(cfg, "ops/plan.md", block())
    assert roles is not None
    assert [h.handle for h in roles.of("D")] == ["@second"]
    assert roles.source == RoleSource(Origin.CONFIG, ".github/rapid.yml", 9)


def test_a_block_entry_for_another_title_lets_an_earlier_entry_apply():
    cfg = config(rule("ops/**", 4, D="@ops"), rule("ops/**", 9, block="Sales VPMOM", D="@sales"))
    sales = config_roles(cfg, "ops/plan.md", block("FY21 Sales VPMOM"))
    other = config_roles(cfg, "ops/plan.md", block("FY21 Ops VPMOM"))
    assert sales is not None and other is not None
    assert [h.handle for h in sales.of("D")] == ["@sales"]
    assert [h.handle for h in other.of("D")] == ["@ops"]


def test_no_matching_entry():
    assert config_roles(config(rule("sales/**", D="@x")), "ops/plan.md", block()) is None


def test_document_roles_resolve_aliases_and_point_at_the_rapid_row():
    cfg = config(aliases=ALIASES)
    roles = document_roles(cfg, "ops/plan.md", block(rapid="IJT(D), MLT(R, A, P & I)", line=10))
    assert roles is not None
    assert roles.source == RoleSource(Origin.DOCUMENT, "ops/plan.md", 13)
    assert [h.handle for h in roles.of("D")] == ["@ianjt"]
    assert {r: [h.handle for h in roles.of(r)] for r in "APIR"} == {
        r: ["@acme/mlt"] for r in "APIR"
    }


@pytest.mark.parametrize("rapid", [None, "TBA", ""])
def test_no_rapid_line_or_no_readable_holder_gives_no_document_roles(rapid):
    assert document_roles(config(), "ops/plan.md", block(rapid=rapid)) is None


def test_block_roles_prefer_config_then_document_else_unowned():
    cfg = config(rule("ops/**", D="@cfg"), aliases=ALIASES)
    with_line = block(rapid="IJT(D)")
    assert block_roles(cfg, "ops/a.md", with_line).of("D")[0].handle == "@cfg"
    assert block_roles(cfg, "sales/a.md", with_line).of("D")[0].handle == "@ianjt"
    assert block_roles(cfg, "sales/a.md", block()) is UNOWNED
    assert not UNOWNED.owned


def test_mismatched_roles_compare_resolved_handles():
    cfg = config(rule("ops/**", D="@ianjt", A="@acme/mlt @cfo"), aliases=ALIASES)
    from_config = config_roles(cfg, "ops/a.md", block())
    agreeing = document_roles(cfg, "ops/a.md", block(rapid="IJT(D), @CFO(A), MLT(A)"))
    other = document_roles(cfg, "ops/a.md", block(rapid="@jane(D), MLT(A)"))
    assert from_config and agreeing and other
    assert mismatched_roles(from_config, agreeing, "DA") == []
    assert mismatched_roles(from_config, other, "DAR") == ["D", "A"]
    assert not differs(from_config, agreeing)
    assert differs(from_config, other)
    assert differs(None, other) and not differs(None, None)


def test_roles_from_a_loaded_config_point_at_the_paths_entry():
    text = (
        "version: 1\n"
        "aliases:\n"
        '  AS: "@asmith"\n'
        "paths:\n"
        '  - pattern: "operations/**"\n'
        '    roles: {D: "@ianjt", A: ["@acme/mlt"]}\n'
        '  - pattern: "operations/sales/*.md"\n'
        '    block: "Sales VPMOM"\n'
        "    roles: {D: AS}\n"
    )
    cfg = load_config(text, ".github/rapid.yml")
    sales = block_roles(cfg, "operations/sales/plan.md", block("FY21 Sales VPMOM"))
    ops = block_roles(cfg, "operations/sales/plan.md", block("FY21 Ops VPMOM"))
    assert (str(sales.source), sales.of("D")[0].handle) == (".github/rapid.yml:7", "@asmith")
    assert (str(ops.source), ops.of("D")[0].handle) == (".github/rapid.yml:5", "@ianjt")
