"""Approval state per docs/architecture.md#approval-state: one table test per rule, and a
property over random review histories checked against a reference written from the rules, not
the engine."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapidvet.checks.model import Severity
from rapidvet.workflows.approval import PREVIOUS_DECIDER, Conclusion, RowState
from rapidvet.workflows.decision import decide
from rapidvet.workflows.reviews import Review, latest_reviews
from tests.support.review_builders import (
    AUTHOR,
    HEAD,
    T0,
    TITLE,
    changed,
    codes,
    config,
    hashes,
    request,
    review,
    rule,
    states,
)

APPROVED, WAITING, VETOED, STALE = (
    RowState.APPROVED,
    RowState.WAITING,
    RowState.VETOED,
    RowState.STALE,
)
SUCCESS, FAILURE, PENDING, NEUTRAL = (
    Conclusion.SUCCESS,
    Conclusion.FAILURE,
    Conclusion.PENDING,
    Conclusion.NEUTRAL,
)
PAIR = config(rule(D="@dee", A="@amy"))
TEAM = {"mlt": ["mo", "max"]}


def team_config(mode: str = "any", **policy: object):
    return config(rule(D="@dee", A="@acme/mlt"), team_approval=mode, **policy)


def state(decision, role, holder):
    return states(decision)[(TITLE, role, holder)]


# --- which review counts --------------------------------------------------------------


def test_latest_review_counts_and_comments_change_nothing():
    first = review("amy", "APPROVED", minute=1)
    latest = latest_reviews([first, review("amy", "COMMENTED", minute=2)])
    assert latest == {"amy": first}


def test_reviews_count_by_time_not_by_list_order():
    veto, approval = (
        review("amy", "CHANGES_REQUESTED", minute=1),
        review("Amy", "approved", minute=2),
    )
    assert latest_reviews([approval, veto]) == {"amy": approval}


def test_a_dismissed_review_leaves_no_standing_review():
    history = [review("amy", "APPROVED", minute=1), review("amy", "DISMISSED", minute=2)]
    assert latest_reviews(history) == {}
    later = review("amy", "changes_requested", minute=3)
    assert latest_reviews([*history, later]) == {"amy": later}


def test_unknown_and_pending_states_read_as_comments():
    assert latest_reviews([review("amy", "PENDING"), review("amy", "SOMETHING_NEW")]) == {}


# --- D and A --------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations(["dee", "amy"])))
def test_approvals_in_either_order_succeed(order):
    reviews = [review(user, minute=n) for n, user in enumerate(order)]
    assert decide(request(PAIR, [changed()], reviews)).conclusion is SUCCESS
    assert decide(request(PAIR, [changed()], reviews[:1])).conclusion is PENDING


@pytest.mark.parametrize(
    ("history", "conclusion", "amy"),
    [
        ([("amy", "CHANGES_REQUESTED")], FAILURE, VETOED),
        ([("amy", "CHANGES_REQUESTED"), ("amy", "APPROVED")], SUCCESS, APPROVED),
        ([("amy", "APPROVED"), ("amy", "CHANGES_REQUESTED")], FAILURE, VETOED),
        ([("amy", "DISMISSED")], PENDING, WAITING),  # a dismissed veto
        ([("amy", "APPROVED"), ("amy", "DISMISSED")], PENDING, WAITING),
        ([("amy", "CHANGES_REQUESTED"), ("amy", "COMMENTED")], FAILURE, VETOED),
        ([("amy", "changes_requested"), ("amy", "approved")], SUCCESS, APPROVED),
        ([("zed", "CHANGES_REQUESTED"), ("amy", "APPROVED")], SUCCESS, APPROVED),
    ],
    ids=[
        "veto",
        "veto-then-approve",
        "approve-then-veto",
        "dismissed-veto",
        "dismissed-after-approval",
        "comment-keeps-veto",
        "webhook-lower-case",
        "non-holder-veto-ignored",
    ],
)
def test_agree_vetoes(history, conclusion, amy):
    reviews = [review("dee"), *(review(u, s, minute=n + 1) for n, (u, s) in enumerate(history))]
    decision = decide(request(PAIR, [changed()], reviews))
    assert (decision.conclusion, state(decision, "A", "@amy")) == (conclusion, amy)


def test_a_decider_change_request_waits_but_does_not_veto():
    decision = decide(
        request(PAIR, [changed()], [review("dee", "CHANGES_REQUESTED"), review("amy")])
    )
    assert (decision.conclusion, state(decision, "D", "@dee")) == (PENDING, WAITING)
    [d_row] = [row for row in decision.rows if row.role == "D"]
    assert d_row.review is not None and d_row.review.state == "CHANGES_REQUESTED"


@pytest.mark.parametrize(
    ("required", "roles"),
    [(("D",), {"D": True, "A": False}), (("D", "A", "I"), {"D": True, "A": True, "I": True})],
)
def test_required_roles_come_from_policy(required, roles):
    cfg = config(rule(D="@dee", A="@amy", I="@ivy"), required_roles=required)
    decision = decide(request(cfg, [changed()], [review("dee")]))
    assert {row.role: row.required for row in decision.rows if row.role in roles} == roles
    expected = SUCCESS if required == ("D",) else PENDING
    assert decision.conclusion is expected


def test_the_review_that_decided_a_row_is_recorded():
    approval = review("dee", commit="c1", minute=3)
    decision = decide(request(PAIR, [changed()], [approval], commit_hashes=hashes(c1="v2")))
    [d_row] = [row for row in decision.rows if row.role == "D"]
    assert d_row.review == approval
    assert (d_row.review.user, d_row.review.submitted_at, d_row.review.commit_id) == (
        "dee",
        T0 + timedelta(minutes=3),
        "c1",
    )
    assert (d_row.block.path, d_row.block.block.title, d_row.block.block.line) == (
        "ops/plan.md",
        TITLE,
        1,
    )
    assert str(d_row.source) == ".github/rapid.yml:5"


# --- stale approvals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dismiss_on", "at_review", "expected"),
    [
        ("content", "v1", STALE),  # a later push edited the approved block
        ("content", "v2", APPROVED),  # later pushes left the block alone
        ("push", "v2", STALE),
        ("never", "v1", APPROVED),
    ],
)
def test_stale_approvals(dismiss_on, at_review, expected):
    cfg = config(rule(D="@dee", A="@amy"), dismiss_on=dismiss_on)
    reviews = [review("dee", commit="c1"), review("amy")]
    decision = decide(
        request(cfg, [changed(content="v2")], reviews, commit_hashes=hashes(c1=at_review))
    )
    assert state(decision, "D", "@dee") is expected
    assert decision.conclusion is (SUCCESS if expected is APPROVED else PENDING)


def test_an_approval_on_a_commit_without_hashes_is_stale():
    decision = decide(request(PAIR, [changed()], [review("dee", commit="unknown"), review("amy")]))
    assert state(decision, "D", "@dee") is STALE


def test_a_veto_does_not_go_stale():
    reviews = [review("dee"), review("amy", "CHANGES_REQUESTED", commit="c1")]
    decision = decide(request(PAIR, [changed()], reviews, commit_hashes=hashes(c1="v1")))
    assert (decision.conclusion, state(decision, "A", "@amy")) == (FAILURE, VETOED)


def test_a_deletion_is_approved_by_the_owners_of_the_deleted_block():
    deleted = changed(rapid="@dee(D), @amy(A)", change="deleted")
    gone, present = {"c1": {}}, {"c1": {deleted.key: "v1"}}
    reviews = [review("dee", commit="c1"), review("amy")]
    assert decide(request(config(), [deleted], reviews, commit_hashes=gone)).conclusion is SUCCESS
    stale = decide(request(config(), [deleted], reviews, commit_hashes=present))
    assert state(stale, "D", "@dee") is STALE


# --- teams ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "approvers", "expected", "waiting_on"),
    [
        ("any", ["mo"], APPROVED, ()),
        ("any", ["zed"], WAITING, ()),
        ("all", ["mo"], WAITING, ("max",)),
        ("all", ["mo", "max"], APPROVED, ()),
    ],
)
def test_team_approval(mode, approvers, expected, waiting_on):
    reviews = [review("dee"), *(review(u, minute=1) for u in approvers)]
    decision = decide(request(team_config(mode), [changed()], reviews, teams=TEAM))
    [a_row] = [row for row in decision.rows if row.role == "A"]
    assert (a_row.state, a_row.waiting_on) == (expected, waiting_on)


def test_a_team_member_change_request_vetoes_for_the_team():
    reviews = [review("dee"), review("mo"), review("max", "CHANGES_REQUESTED")]
    decision = decide(request(team_config(), [changed()], reviews, teams=TEAM))
    assert (decision.conclusion, state(decision, "A", "@acme/mlt")) == (FAILURE, VETOED)


def test_a_team_without_known_members_cannot_be_satisfied():
    decision = decide(request(team_config(), [changed()], [review("dee"), review("mo")]))
    assert state(decision, "A", "@acme/mlt") is WAITING
    assert "team-unknown" in codes(decision)


@pytest.mark.parametrize("org", ["acme", "ACME"])
def test_a_team_of_another_organization_fails_the_review_and_is_never_asked(org):
    # A review request names a team by slug: the acme team of that slug must not be asked.
    cfg = config(rule(D="@dee", A="@other/mlt"))
    asked = request(cfg, [changed()], [review("dee")], teams=TEAM)
    decision = decide(replace(asked, org=org))
    [note] = [note for note in decision.notes if note.code == "team-foreign"]
    assert (note.severity, decision.conclusion) == (Severity.ERROR, FAILURE)
    assert note.message.endswith(
        f"@other/mlt is not a team of {org}; only teams of the repository's organization "
        "can hold roles"
    )
    assert decision.requests.blocking.teams == decision.requests.input.teams == ()


def test_a_team_of_the_repository_organization_is_not_foreign_whatever_its_case():
    decision = decide(replace(request(team_config(), [changed()], teams=TEAM), org="ACME"))
    assert "team-foreign" not in codes(decision)
    assert decision.requests.blocking.teams == ("mlt",)


# --- the author -----------------------------------------------------------------------


def test_the_author_as_decider_cannot_satisfy_it():
    cfg = config(rule(D=f"@{AUTHOR}", A="@amy"))
    decision = decide(request(cfg, [changed()], [review(AUTHOR), review("amy")]))
    assert (decision.conclusion, state(decision, "D", f"@{AUTHOR}")) == (PENDING, WAITING)
    assert "author-holds-role" in codes(decision)


def test_author_can_satisfy_counts_authorship_as_approval():
    cfg = config(rule(D=f"@{AUTHOR}", A="@amy"), author_can_satisfy=True)
    decision = decide(request(cfg, [changed()], [review("amy")]))
    [d_row] = [row for row in decision.rows if row.role == "D"]
    assert (decision.conclusion, d_row.state, d_row.by_author) == (SUCCESS, APPROVED, True)
    assert "author-holds-role" not in codes(decision)


def test_the_author_never_speaks_for_their_team():
    teams = {"mlt": [AUTHOR, "mo"]}
    any_member = decide(
        request(team_config(), [changed()], [review("dee"), review(AUTHOR)], teams=teams)
    )
    assert state(any_member, "A", "@acme/mlt") is WAITING
    # Under "all", the other members suffice: the author is not waited for.
    every = decide(
        request(team_config("all"), [changed()], [review("dee"), review("mo")], teams=teams)
    )
    assert every.conclusion is SUCCESS


# --- roles that change ----------------------------------------------------------------


def test_a_changed_rapid_line_needs_the_previous_decider():
    cfg = config(aliases={"OLD": "@old", "NEW": "@new"})
    block = changed(rapid="NEW(D), @amy(A)", base_rapid="OLD(D), @amy(A)")
    reviews = [review("new"), review("amy")]
    decision = decide(request(cfg, [block], reviews))
    assert state(decision, PREVIOUS_DECIDER, "OLD (@old)") is WAITING
    assert decision.conclusion is PENDING
    assert "roles-changed" in codes(decision)
    assert decide(request(cfg, [block], [*reviews, review("old")])).conclusion is SUCCESS


def test_rewording_a_rapid_line_changes_no_role():
    cfg = config(aliases={"OLD": "@old"})
    block = changed(rapid="OLD (D), @amy (Agree)", base_rapid="@old(D), @amy(A)")
    decision = decide(request(cfg, [block]))
    assert PREVIOUS_DECIDER not in {row.role for row in decision.rows}


def test_head_config_with_other_roles_needs_the_previous_decider_and_base_rules():
    base_cfg = config(rule(D="@old", A="@amy"))
    head_cfg = config(rule(D="@new", A="@amy"))
    decision = decide(request(base_cfg, [changed()], [review("amy")], head_config=head_cfg))
    assert {(r.role, str(r.holder)) for r in decision.rows} == {
        ("D", "@old"),
        ("A", "@amy"),
        (PREVIOUS_DECIDER, "@old"),
    }
    [note] = [n for n in decision.notes if n.code == "roles-changed"]
    assert ".github/rapid.yml" in note.message
    approved = [review("amy"), review("old")]
    assert (
        decide(request(base_cfg, [changed()], approved, head_config=head_cfg)).conclusion is SUCCESS
    )


def test_removing_the_rapid_line_still_needs_the_previous_decider():
    block = changed(rapid=None, base_rapid="@old(D)")
    decision = decide(request(config(), [block]))
    assert [(r.role, str(r.holder), r.required) for r in decision.rows] == [
        (PREVIOUS_DECIDER, "@old", True)
    ]
    assert (decision.conclusion, codes(decision)) == (PENDING, ["unowned", "roles-changed"])


def test_an_added_block_has_no_previous_decider():
    block = changed(rapid="@dee(D)", change="added")
    decision = decide(request(config(), [block], [review("dee")]))
    assert decision.conclusion is SUCCESS


# --- ownership and findings -----------------------------------------------------------


def test_an_unowned_block_is_neutral():
    decision = decide(request(config(), [changed()]))
    assert (decision.conclusion, decision.rows, codes(decision)) == (NEUTRAL, (), ["unowned"])


def test_an_unowned_block_beside_an_owned_one_is_only_noted():
    cfg = config(rule("ops/**", D="@dee"))
    blocks = [changed(), changed("FY21 Sales VPMOM", path="sales/plan.md")]
    decision = decide(request(cfg, blocks, [review("dee")]))
    assert (decision.conclusion, codes(decision)) == (SUCCESS, ["unowned"])


def test_config_and_document_disagreeing_is_a_failing_finding():
    block = changed(rapid="@other(D), @amy(A)")
    decision = decide(request(PAIR, [block], [review("dee"), review("amy")]))
    assert (decision.conclusion, codes(decision)) == (FAILURE, ["rapid-mismatch"])
    assert decision.notes[0].line == 4  # the RAPID row
    lenient = config(rule(D="@dee", A="@amy"), doc_rapid_must_match=False)
    assert decide(request(lenient, [block], [review("dee"), review("amy")])).conclusion is SUCCESS


def test_a_document_may_name_roles_the_config_leaves_open():
    block = changed(rapid="@dee(D), @amy(A), @pat(P & I)")
    decision = decide(request(PAIR, [block], [review("dee"), review("amy")]))
    assert (decision.conclusion, codes(decision)) == (SUCCESS, [])


def test_a_block_without_decider_fails():
    decision = decide(request(config(), [changed(rapid="@amy(A)")], [review("amy")]))
    assert (decision.conclusion, codes(decision)) == (FAILURE, ["no-decider"])


@pytest.mark.parametrize(
    ("rapid", "conclusion"), [("IJT(D)", FAILURE), ("@dee(D), IJT(I)", SUCCESS)]
)
def test_an_unresolved_alias_is_reported(rapid, conclusion):
    decision = decide(request(config(), [changed(rapid=rapid)], [review("dee")]))
    assert "unresolved-alias" in codes(decision)
    assert decision.conclusion is conclusion


@pytest.mark.parametrize(
    ("recommender", "teams", "warned"),
    [("@rita", {}, True), (f"@{AUTHOR}", {}, False), ("@acme/recs", {"recs": [AUTHOR]}, False)],
)
def test_an_author_who_is_not_recommender_is_warned(recommender, teams, warned):
    cfg = config(rule(D="@dee", R=recommender))
    decision = decide(request(cfg, [changed()], teams=teams))
    assert ("author-not-recommender" in codes(decision)) is warned


def test_recommenders_named_only_by_the_document_are_not_checked():
    decision = decide(request(config(), [changed(rapid="@dee(D), @rita(R)")]))
    assert "author-not-recommender" not in codes(decision)


# --- several blocks -------------------------------------------------------------------


def test_one_review_counts_for_every_role_across_blocks_and_files():
    cfg = config(rule("ops/**", D="@alice", A="@bob"), rule("sales/**", 9, D="@carol", A="@alice"))
    ops = changed("FY21 Ops VPMOM", path="ops/a.md", content="o2")
    infra = changed("FY21 Infra VPMOM", path="ops/a.md", content="i2", line=30)
    sales = changed("FY21 Sales VPMOM", path="sales/b.md", content="s2")
    blocks = [ops, infra, sales]
    alice = review("alice", commit="c1")
    at_c1 = {"c1": {ops.key: "o2", infra.key: "i1", sales.key: "s2"}}
    decision = decide(request(cfg, blocks, [alice], commit_hashes=at_c1))
    assert states(decision) == {
        ("FY21 Ops VPMOM", "D", "@alice"): APPROVED,
        ("FY21 Ops VPMOM", "A", "@bob"): WAITING,
        ("FY21 Infra VPMOM", "D", "@alice"): STALE,  # edited after alice's review
        ("FY21 Infra VPMOM", "A", "@bob"): WAITING,
        ("FY21 Sales VPMOM", "D", "@carol"): WAITING,
        ("FY21 Sales VPMOM", "A", "@alice"): APPROVED,
    }
    everyone = [review(u, minute=1) for u in ("alice", "bob", "carol")]
    assert decide(request(cfg, blocks, everyone)).conclusion is SUCCESS


# --- random review histories ----------------------------------------------------------

PEOPLE = ("dee", "amy", "mo", "max", "zed", AUTHOR)
STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED")
COMMITS = ("c1", "c2", HEAD)


@st.composite
def histories(draw):
    """Team mode, team members, block content per older commit ("v2" is current) and a
    few reviews per person on random commits, interleaved in time at random."""
    mode = draw(st.sampled_from(["any", "all"]))
    members = draw(st.frozensets(st.sampled_from(PEOPLE), max_size=3))
    content = {commit: draw(st.sampled_from(["v1", "v2"])) for commit in COMMITS[:-1]}
    # Approvals and the head commit are drawn more often, so that successes are common too.
    step = st.tuples(
        st.sampled_from(("APPROVED",) * 3 + STATES),
        st.sampled_from((HEAD, *COMMITS)),
        st.booleans(),
    )
    steps = [(p, *s) for p in PEOPLE for s in draw(st.lists(step, min_size=1, max_size=3))]
    times = draw(st.permutations(range(len(steps))))
    reviews = [
        Review(n, user, state.lower() if lower else state, T0 + timedelta(minutes=times[n]), commit)
        for n, (user, state, commit, lower) in enumerate(steps)
    ]
    return mode, members, content, reviews


def _standing(reviews, login):
    """(state, commit) of `login`'s latest review that is not a comment; None when there
    is none or that review was dismissed."""
    standing = None
    for r in sorted(reviews, key=lambda r: r.submitted_at):
        if r.user != login or r.state.upper() == "COMMENTED":
            continue
        standing = None if r.state.upper() == "DISMISSED" else (r.state.upper(), r.commit_id)
    return standing


@settings(max_examples=400, deadline=None)
@given(histories())
def test_success_exactly_when_decider_and_every_agree_approved_current_content(history):
    mode, members, content, reviews = history
    current = "v2"

    def approves(login):
        standing = _standing(reviews, login)
        return (
            login != AUTHOR
            and standing is not None
            and standing[0] == "APPROVED"
            and (standing[1] == HEAD or content[standing[1]] == current)
        )

    def vetoes(login):
        standing = _standing(reviews, login)
        return login != AUTHOR and standing is not None and standing[0] == "CHANGES_REQUESTED"

    voters = [m for m in members if m != AUTHOR]
    team_agrees = bool(voters) and (all if mode == "all" else any)(approves(m) for m in voters)
    vetoed = vetoes("amy") or any(vetoes(m) for m in voters)
    expected_success = approves("dee") and approves("amy") and team_agrees and not vetoed

    cfg = config(rule(D="@dee", A="@amy @acme/mlt"), team_approval=mode)
    decision = decide(
        request(
            cfg,
            [changed(content=current)],
            reviews,
            teams={"mlt": members},
            commit_hashes=hashes(**content),
        )
    )
    assert (decision.conclusion is SUCCESS) == expected_success
    assert (decision.conclusion is FAILURE) == vetoed
