"""Whom to ask for a review, and what each approval would unblock."""

from __future__ import annotations

import pytest

from rapidvet.workflows.approval import Conclusion
from rapidvet.workflows.decision import decide
from rapidvet.workflows.reviewers import ReviewerRequests
from tests.support.review_builders import (
    AUTHOR,
    changed,
    codes,
    config,
    hashes,
    request,
    review,
    rule,
)

MLT = {"mlt": ["mo", "max"]}
PAIR = config(rule(D="@dee", A="@amy"))


def blocking(decision):
    return decision.requests.blocking


def unblock_of(decision, reviewer):
    return next(u for u in decision.unblocks if u.reviewer.handle == reviewer)


def test_one_person_holding_several_missing_roles_is_enough():
    cfg = config(rule(D="@alice", A="@acme/mlt"))
    decision = decide(request(cfg, [changed()], teams={"mlt": ["alice", "mo"]}))
    assert blocking(decision) == ReviewerRequests(users=("alice",))


def test_a_team_named_as_holder_is_preferred_to_one_of_its_members():
    cfg = config(rule(D="@dee", A="@acme/mlt"))
    decision = decide(request(cfg, [changed()], teams=MLT))
    assert blocking(decision) == ReviewerRequests(users=("dee",), teams=("mlt",))


def test_cover_across_blocks_picks_the_fewest_reviewers():
    cfg = config(
        rule("ops/**", D="@alice", A="@bob @carol"),
        rule("sales/**", 9, D="@carol", A="@alice"),
        rule("hr/**", 12, D="@alice", A="@carol"),
    )
    blocks = [changed(path=p) for p in ("ops/a.md", "sales/b.md", "hr/c.md")]
    decision = decide(request(cfg, blocks))
    assert blocking(decision) == ReviewerRequests(users=("alice", "bob", "carol"))
    partly = decide(request(cfg, blocks, [review("alice"), review("carol")]))
    assert blocking(partly) == ReviewerRequests(users=("bob",))


def test_requests_do_not_depend_on_the_order_holders_are_written_in():
    one = config(rule(D="@dee", A="@amy @acme/mlt @zed"))
    other = config(rule(D="@dee", A="@zed @acme/mlt @amy"))
    first, second = (decide(request(c, [changed()], teams=MLT)) for c in (one, other))
    assert first.requests == second.requests
    assert [u.reviewer for u in first.unblocks] == [u.reviewer for u in second.unblocks]


def test_the_author_is_never_requested():
    cfg = config(rule(D=f"@{AUTHOR}", A="@amy"))
    assert blocking(decide(request(cfg, [changed()]))) == ReviewerRequests(users=("amy",))


def test_an_unavailable_holder_is_not_requested_but_can_approve():
    cfg = config(rule(D="@dee", A="@amy @acme/mlt"), unavailable=["@amy", "@acme/mlt"])
    decision = decide(request(cfg, [changed()], teams=MLT))
    assert blocking(decision) == ReviewerRequests(users=("dee",))
    approved = [review("dee"), review("amy"), review("mo")]
    assert decide(request(cfg, [changed()], approved, teams=MLT)).conclusion is Conclusion.SUCCESS


@pytest.mark.parametrize(
    ("amy", "content_at_c1", "requested"),
    [
        (review("amy", "CHANGES_REQUESTED"), "v1", False),  # already spoke on this content
        (review("amy", "CHANGES_REQUESTED", commit="c1"), "v2", False),
        (review("amy", "CHANGES_REQUESTED", commit="c1"), "v1", True),  # content changed since
        (review("amy", commit="c1"), "v1", True),  # a stale approval
        (review("amy", "COMMENTED"), "v1", True),  # comments are no review
    ],
)
def test_someone_who_reviewed_the_current_content_is_not_requested_again(
    amy, content_at_c1, requested
):
    decision = decide(
        request(PAIR, [changed()], [review("dee"), amy], commit_hashes=hashes(c1=content_at_c1))
    )
    assert ("amy" in blocking(decision).users) is requested


def test_input_holders_are_requested_separately_and_never_twice():
    cfg = config(rule(D="@dee", A="@amy", I="@ivy @dee", P="@acme/ops"))
    decision = decide(request(cfg, [changed()], [review("ivy")]))
    assert decision.requests.input == ReviewerRequests(teams=("ops",))  # ivy spoke, dee asked
    assert blocking(decision) == ReviewerRequests(users=("amy", "dee"))
    fresh = decide(request(cfg, [changed()]))
    assert fresh.requests.input == ReviewerRequests(users=("ivy",), teams=("ops",))


def test_no_input_requests_unless_policy_asks():
    cfg = config(rule(D="@dee", I="@ivy"), request_input=False)
    assert decide(request(cfg, [changed()])).requests.input == ReviewerRequests()


def test_an_unresolved_alias_cannot_be_requested():
    decision = decide(request(config(), [changed(rapid="IJT(D), @amy(A)")]))
    assert blocking(decision) == ReviewerRequests(users=("amy",))
    assert "unresolved-alias" in codes(decision)


def test_unblocks_name_the_rows_and_whether_they_complete_the_review():
    decision = decide(request(PAIR, [changed()]))
    dee = unblock_of(decision, "@dee")
    assert ([r.role for r in dee.rows], dee.completes) == (["D"], False)
    last_one = decide(request(PAIR, [changed()], [review("amy")]))
    assert [(u.reviewer.handle, u.completes) for u in last_one.unblocks] == [("@dee", True)]


def test_a_vetoing_agree_holder_would_unblock_by_approving():
    decision = decide(
        request(PAIR, [changed()], [review("dee"), review("amy", "CHANGES_REQUESTED")])
    )
    amy = unblock_of(decision, "@amy")
    assert ([r.role for r in amy.rows], amy.completes) == (["A"], True)
    assert blocking(decision) == ReviewerRequests()


@pytest.mark.parametrize("mode", ["any", "all"])
def test_a_team_entry_stands_for_its_members(mode):
    cfg = config(rule(D="@dee", A="@acme/mlt"), team_approval=mode)
    decision = decide(request(cfg, [changed()], [review("dee")], teams=MLT))
    assert [(u.reviewer.handle, u.completes) for u in decision.unblocks] == [("@acme/mlt", True)]


def test_a_vetoing_team_member_would_unblock_by_approving():
    cfg = config(rule(D="@dee", A="@acme/mlt"))
    reviews = [review("dee"), review("mo", "CHANGES_REQUESTED")]
    decision = decide(request(cfg, [changed()], reviews, teams=MLT))
    assert [(u.reviewer.handle, u.completes) for u in decision.unblocks] == [("@mo", True)]


def test_the_last_missing_member_of_an_all_team_unblocks_it():
    cfg = config(rule(D="@dee", A="@acme/mlt"), team_approval="all")
    decision = decide(request(cfg, [changed()], [review("dee"), review("mo")], teams=MLT))
    assert unblock_of(decision, "@max").completes


def test_nothing_completes_while_a_finding_fails_the_check():
    block = changed(rapid="@other(D), @amy(A)")  # disagrees with the config
    decision = decide(request(PAIR, [block], [review("amy")]))
    assert decision.conclusion is Conclusion.FAILURE
    assert not unblock_of(decision, "@dee").completes
