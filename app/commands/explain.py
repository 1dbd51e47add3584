"""`rapidvet explain`: what the App would decide for a branch, from a local git checkout.

A handbook owner runs it to try a new rapid.yml before pushing: the changed plans, who
holds each role and where that came from, which roles the given reviews satisfy, and who
would be asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rapidvet.app.checkout.git import Repository
from rapidvet.app.commands import exit_codes
from rapidvet.app.errors import UsageError
from rapidvet.workflows.approval import Conclusion
from rapidvet.workflows.config_loader import (
    CONFIG_LOCATIONS,
    ConfigError,
    config_location,
    load_config,
)
from rapidvet.workflows.decision import Decision, PullRequest, decide
from rapidvet.workflows.pull_request import review_request
from rapidvet.workflows.rapid_config import RapidConfig
from rapidvet.workflows.reviews import Review

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "explain",
        help="simulate the RAPID review of a branch locally",
        **exit_codes(
            "the review would succeed, or no plan changed",
            "the review would fail or is still pending",
        ),
    )
    parser.add_argument("--repo", default=".", help="the git checkout (default: here)")
    parser.add_argument("--base", required=True, help="the branch the pull request targets")
    parser.add_argument("--head", required=True, help="the pull request's branch or commit")
    parser.add_argument("--reviews", help="JSON file: reviews, author and team members")
    parser.add_argument("--author", help="the pull request author's login")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    repo = Repository.open(args.repo)
    base, head = repo.commit(args.base), repo.commit(args.head)
    spec = read_reviews(args.reviews, repo, head) if args.reviews else {}
    author = args.author or spec.get("author", "")
    changed = repo.changed_paths(base, head)
    config, config_path = base_config(repo, base)
    head_config = None
    if config_path in changed or (config_path is None and set(CONFIG_LOCATIONS) & set(changed)):
        head_config, _ = base_config(repo, head)
    files = {path: (repo.read(base, path), repo.read(head, path)) for path in changed}
    reviews: list[Review] = spec.get("reviews", [])
    texts_at = {r.commit_id: {p: repo.read(r.commit_id, p) for p in changed} for r in reviews}
    request = review_request(
        config,
        PullRequest(number=0, author=author, head_sha=head, base_sha=base),
        files,
        reviews,
        texts_at,
        spec.get("teams", {}),
        head_config,
    )
    decision = decide(request)
    source = f"{config_path} at {base[:8]}" if config_path else "none (RAPID lines only)"
    out = as_json(decision, source) if args.format == "json" else as_text(decision, source)
    sys.stdout.write(out + "\n")
    return 1 if decision.conclusion in (Conclusion.FAILURE, Conclusion.PENDING) else 0


def base_config(repo: Repository, commit: str) -> tuple[RapidConfig, str | None]:
    """The rapid.yml at a commit, where GitHub would look for CODEOWNERS; the default policy
    when there is none. A broken one is an error: the App would fail the check."""
    path = config_location(p for p in CONFIG_LOCATIONS if repo.exists(commit, p))
    if path is None:
        return RapidConfig(), None
    try:
        return load_config(repo.read(commit, path) or "", path), path
    except ConfigError as err:
        raise UsageError(f"{path} at {commit[:8]} is invalid: {err.problems[0]}") from None


def read_reviews(name: str, repo: Repository, head: str) -> dict[str, Any]:
    """The reviews file: `{"author": login, "teams": {slug: [logins]}, "reviews": [{"user",
    "state", "commit" (ref, default head), "submitted_at" (ISO, default file order)}]}`,
    or just the list of reviews."""
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"{name}: {err.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsageError(f"{name}: not valid JSON ({err})") from None
    spec = {"reviews": data} if isinstance(data, list) else data
    if not isinstance(spec, dict) or not isinstance(spec.get("reviews", []), list):
        raise UsageError(f'{name}: expected a list of reviews or {{"reviews": [...]}}')
    try:
        reviews = [_review(n, r, repo, head) for n, r in enumerate(spec.get("reviews", []))]
        teams = {
            str(slug).rsplit("/", 1)[-1]: frozenset(str(m).lstrip("@") for m in members)
            for slug, members in spec.get("teams", {}).items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise UsageError(f"{name}: bad review entry: {err}") from None
    return {"author": str(spec.get("author", "")).lstrip("@"), "reviews": reviews, "teams": teams}


def _review(n: int, entry: dict[str, Any], repo: Repository, head: str) -> Review:
    when = entry.get("submitted_at")
    submitted = datetime.fromisoformat(when) if when else EPOCH + timedelta(minutes=n)
    return Review(
        id=int(entry.get("id", n + 1)),
        user=str(entry["user"]).lstrip("@"),
        state=str(entry["state"]),
        submitted_at=submitted if submitted.tzinfo else submitted.replace(tzinfo=UTC),
        commit_id=repo.commit(str(entry.get("commit", head))),
    )


def _source(row: Any) -> str:
    return f"{row.source.origin} {row.source}"


def as_text(decision: Decision, config_source: str) -> str:
    lines = [f"Config: {config_source}"]
    current = None
    for row in decision.rows:
        block = row.block
        if block.key != current:
            current = block.key
            lines.append(f'{block.path}:{block.block.line} "{block.block.title}" ({block.change})')
        by = (
            f" by @{row.review.user} at {row.review.submitted_at:%Y-%m-%d %H:%M}"
            if row.review
            else ""
        )
        need = "" if row.required else " (not blocking)"
        lines.append(f"  {row.role:<12} {row.holder!s:<28} {row.state}{by}{need}  [{_source(row)}]")
    if not decision.rows:
        lines.append("No changed plans.")
    lines.extend(f"{note.severity}: {note.message}" for note in decision.notes)
    lines.append(f"Conclusion: {decision.conclusion}")
    blocking, inputs = decision.requests.blocking, decision.requests.input
    lines.append("Would request: " + _who(blocking.users, blocking.teams))
    if inputs.users or inputs.teams:
        lines.append("Would ask for input: " + _who(inputs.users, inputs.teams))
    for unblock in decision.unblocks:
        done = ", which completes the review" if unblock.completes else ""
        lines.append(
            f"An approval by {unblock.reviewer} satisfies {len(unblock.rows)} role(s){done}"
        )
    return "\n".join(lines)


def _who(users: tuple[str, ...], teams: tuple[str, ...]) -> str:
    names = [f"@{u}" for u in users] + [f"team {t}" for t in teams]
    return ", ".join(names) or "nobody"


def as_json(decision: Decision, config_source: str) -> str:
    rows = [
        {
            "path": row.block.path,
            "block": row.block.block.title,
            "line": row.block.block.line,
            "change": str(row.block.change),
            "role": row.role,
            "holder": row.holder.name,
            "handle": row.holder.handle,
            "required": row.required,
            "state": str(row.state),
            "source": {
                "origin": str(row.source.origin),
                "path": row.source.path,
                "line": row.source.line,
            },
            "review": None
            if row.review is None
            else {
                "user": row.review.user,
                "state": row.review.state,
                "commit": row.review.commit_id,
            },
        }
        for row in decision.rows
    ]
    data = {
        "config": config_source,
        "conclusion": str(decision.conclusion),
        "rows": rows,
        "notes": [
            {"severity": str(n.severity), "code": n.code, "message": n.message}
            for n in decision.notes
        ],
        "request": {
            "users": list(decision.requests.blocking.users),
            "teams": list(decision.requests.blocking.teams),
            "input_users": list(decision.requests.input.users),
            "input_teams": list(decision.requests.input.teams),
        },
        "unblocks": [
            {"reviewer": u.reviewer.name, "roles": len(u.rows), "completes": u.completes}
            for u in decision.unblocks
        ],
    }
    return json.dumps(data, indent=1)
