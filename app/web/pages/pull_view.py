"""What the pull request details page (`GET /{owner}/{repo}/pull/{n}`) shows, as a view
(see `views`): the last evaluation's summary, with links on GitHub, and the timeline's events
as lines of text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rapidvet.app.pulls import timeline
from rapidvet.app.pulls.summary import Summary, SummaryBlock, SummaryRow, SummaryUnblock
from rapidvet.app.web.pages.views import Links, View


def pull_details(
    repo: str,
    number: int,
    summary: Summary | None,
    events: Sequence[Mapping[str, Any]],
    *,
    web_url: str,
) -> View:
    """`summary`: the pull request's last evaluation (`summary.stored`); `events`:
    `timeline.pull_events` of the pull request."""
    if summary is None:
        return _not_found(f"rapidvet has not seen pull request #{number} of {repo}.")
    # A summary stored before the details page existed has no pull request: its author,
    # base and link are left empty or made from the number.
    pull = summary.pull
    head, base = summary.head_sha, pull.base_sha if pull else ""
    url = pull.url if pull and pull.url else f"{web_url}/{repo}/pull/{number}"
    links = Links(web_url, repo)
    return {
        "status": "ok",
        "http_status": 200,
        "repo": repo,
        "number": number,
        "url": url,
        "author": pull.author if pull else None,
        "base_ref": pull.base_ref if pull else None,
        "head_sha": head,
        "head_url": links.commit(head),
        "conclusion": summary.conclusion,
        "title": summary.title,
        "blocks": [_block(block, head, base, links) for block in summary.blocks],
        "roles": [_role(row, url, links) for row in summary.rows],
        "unblocks": [_unblock(unblock, links) for unblock in summary.unblocks],
        "findings": [
            {**f.to_json(), "url": links.lines(head, f.path, f.line, f.end_line)}
            for f in summary.findings
        ],
        "notes": [
            {
                **n.to_json(),
                "url": links.lines(head, n.path, n.line) if n.path and n.line else None,
            }
            for n in summary.notes
        ],
        "timeline": [_event(e, url, links) for e in events],
    }


def _block(block: SummaryBlock, head: str, base: str, links: Links) -> View:
    """A changed plan, linked at the head, or at the base when the pull request deletes it."""
    at = base if block.change == "deleted" else head
    return {
        "path": block.path,
        "title": block.title,
        "start": block.line,
        "end": block.end_line,
        "change": block.change,
        "url": links.lines(at, block.path, block.line, block.end_line),
    }


def _role(row: SummaryRow, pull_url: str, links: Links) -> View:
    review = row.review
    return {
        "path": row.path,
        "block": row.block,
        "role": row.role,
        "holder": row.holder,
        "handle": row.handle,
        "profile_url": links.profile(row.handle),
        "avatar_url": links.avatar(row.handle),
        "state": row.state,
        "required": row.required,
        "reviewer": row.reviewer,
        "reviewed_at": review.submitted_at.isoformat() if review else None,
        "review_url": f"{pull_url}#pullrequestreview-{review.id}" if review else None,
        "by_author": row.by_author,
        "waiting_on": list(row.waiting_on),
    }


def _unblock(unblock: SummaryUnblock, links: Links) -> View:
    return {
        "reviewer": unblock.reviewer,
        "handle": unblock.handle,
        "avatar_url": links.avatar(unblock.handle),
        "completes": unblock.completes,
        "satisfies": [row.to_json() for row in unblock.rows],
    }


def _event(event: Mapping[str, Any], pull_url: str, links: Links) -> View:
    kind = event["kind"]
    text, url = kind, None
    if kind == timeline.DELIVERY:
        action = f".{event['action']}" if event.get("action") else ""
        text = f"Received {event['event']}{action} (delivery {event['delivery']})"
    elif kind == timeline.EVALUATION:
        text = f"Evaluated {event['head_sha'][:7]}: {event['conclusion']} — {event['title']}"
        url = links.commit(event["head_sha"])
    elif kind == timeline.CHECK_RUN:
        text = f"Check run “{event['name']}” {event['action']}: {event['conclusion']}"
        url = event.get("url")
    elif kind == timeline.REVIEWERS:
        names = [f"@{u}" for u in event["users"]] + [f"team {t}" for t in event["teams"]]
        text, url = f"Review requested from {', '.join(names)}", pull_url
    elif kind == timeline.MERGE_COMMIT:
        text, url = f"Merge record committed as {event['sha'][:7]}", event["url"]
    elif kind == timeline.MERGE_COMMENT:
        text, url = "Decision comment posted", event["url"]
    elif kind == timeline.MERGE_REFUSED:
        reason = " ".join(event["reason"].split())
        text = f"{event['branch']} refused the direct record ({reason}): follow-up pull request"
    return {"at": event["at"], "kind": kind, "text": text, "url": url}


def _not_found(message: str) -> View:
    return {"status": "not_found", "http_status": 404, "message": message}
