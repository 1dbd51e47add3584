"""Findings about a decision that reviews alone do not show: who owns a block and whether
its sources agree, names that cannot be requested, holders no review can satisfy.

Error notes fail the check (a config or document problem no approval can fix); warnings
and notices are shown next to the role table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rapidvet.checks.model import Block, Severity
from rapidvet.workflows.approval import Assignment, Ballot
from rapidvet.workflows.changes import ChangedBlock
from rapidvet.workflows.rapid_config import RapidConfig
from rapidvet.workflows.roles import (
    BlockRoles,
    Holder,
    Origin,
    config_roles,
    document_roles,
    mismatched_roles,
)


@dataclass(frozen=True)
class Note:
    """`code` is stable (one of the functions below); `path`/`line` locate the cause."""

    code: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None


def ownership_notes(
    config: RapidConfig,
    block: ChangedBlock,
    from_config: BlockRoles | None,
    from_document: BlockRoles | None,
) -> Iterator[Note]:
    """Unowned blocks, config/document disagreement and a missing Decider."""
    title, policy = _title(block), config.policy
    if from_config is None and from_document is None:
        unreadable = block.block.row("RAPID") is not None
        why = "its RAPID line names no readable holder" if unreadable else "it has no RAPID line"
        yield Note(
            "unowned",
            Severity.NOTICE,
            f"{title} is unowned: no `paths:` entry of {config.source} matches and {why}",
            block.path,
            block.block.line,
        )
        return
    yield from mismatch_notes(config, title, block.path, block.block, from_config, from_document)
    roles = from_config or from_document
    if roles is not None and roles.source and "D" in policy.required_roles and not roles.of("D"):
        yield Note(
            "no-decider",
            Severity.ERROR,
            f"{title}: nobody holds D (Decide) in {roles.source}; exactly one holder must",
            roles.source.path,
            roles.source.line,
        )


def mismatch_notes(
    config: RapidConfig,
    title: str,
    path: str,
    block: Block,
    from_config: BlockRoles | None,
    from_document: BlockRoles | None,
) -> Iterator[Note]:
    """Each role the block's RAPID line gives to other holders than the config does."""
    if from_config is None or from_document is None or not config.policy.doc_rapid_must_match:
        return
    # Roles the config sets or enforces; a document may name more (R, P, I) freely.
    compared = {*from_config.holders, *config.policy.required_roles}
    for role in mismatched_roles(from_config, from_document, compared):
        yield Note(
            "rapid-mismatch",
            Severity.ERROR,
            f"{title}: the RAPID line gives {role} to {_names(from_document.of(role))} but "
            f"{from_config.source} gives it to {_names(from_config.of(role))}; "
            "make them agree (policy.doc_rapid_must_match)",
            path,
            from_document.source.line if from_document.source else block.line,
        )


def page_mismatch_notes(config: RapidConfig, path: str, block: Block) -> Iterator[Note]:
    """The mismatches of a block as it stands on a page, outside any pull request."""
    yield from mismatch_notes(
        config,
        f'"{block.title}"',
        path,
        block,
        config_roles(config, path, block),
        document_roles(config, path, block),
    )


def unresolved_notes(assignments: Iterable[Assignment]) -> Iterator[Note]:
    """Names that are neither handles nor aliases: nobody can be asked or approve as them."""
    for a in assignments:
        if a.holder.handle is None:
            yield Note(
                "unresolved-alias",
                Severity.ERROR if a.required else Severity.WARNING,
                f"{_title(a.block)}: {a.holder.name} ({a.role}) is not a handle and not in "
                "`aliases:`, so it cannot be requested or approve; add it to `aliases:`",
                a.source.path,
                a.source.line,
            )


def author_notes(roles: BlockRoles, block: ChangedBlock, ballot: Ballot) -> Iterator[Note]:
    """The author holding a role they cannot satisfy, and an author who is not R."""
    policy, title = ballot.policy, _title(block)
    if not policy.author_can_satisfy:
        held = [
            role
            for role in policy.required_roles
            if any(h.login and ballot.is_author(h.login) for h in roles.of(role))
        ]
        if held:
            yield Note(
                "author-holds-role",
                Severity.WARNING,
                f"{title}: the author @{ballot.author} holds {', '.join(held)} and cannot "
                "approve their own change (policy.author_can_satisfy is false); another "
                "holder must be named for the check to pass",
                block.path,
                block.block.line,
            )
    recommenders, source = roles.of("R"), roles.source
    if source is None or source.origin is not Origin.CONFIG or not recommenders:
        return
    if not any(_speaks_for(h, ballot.author, ballot.teams) for h in recommenders):
        yield Note(
            "author-not-recommender",
            Severity.WARNING,
            f"{title}: {source.path} names {_names(recommenders)} as R (Recommend); "
            f"the author @{ballot.author} is not one of them",
            source.path,
            source.line,
        )


def team_notes(
    assignments: Iterable[Assignment], teams: Mapping[str, frozenset[str]], org: str | None
) -> Iterator[Note]:
    """Team holders no review can count for: teams of another organization than the
    repository's `org`, which the App may not look up (a typo, or a stranger's branch), and
    teams of required roles with no known members."""
    for a in assignments:
        team = a.holder.team
        if a.holder.outside(org):
            yield Note(
                "team-foreign",
                Severity.ERROR,
                f"{_title(a.block)}: {a.holder.handle} is not a team of {org}; only teams of "
                "the repository's organization can hold roles",
                a.source.path,
                a.source.line,
            )
        elif a.required and team is not None and not teams.get(team):
            yield Note(
                "team-unknown",
                Severity.WARNING,
                f"{_title(a.block)}: no members of {a.holder.handle} are known, so no review "
                f"can satisfy its {a.role}",
                a.source.path,
                a.source.line,
            )


def roles_changed_note(block: ChangedBlock, changes: Iterable[str], previous: BlockRoles) -> Note:
    return Note(
        "roles-changed",
        Severity.NOTICE,
        f"{_title(block)}: this pull request changes the {' and the '.join(changes)}, so the "
        f"previous Decider {_names(previous.of('D'))} must approve too; the base branch's "
        "config applies until the change is merged",
        block.path,
        block.block.line,
    )


def _title(block: ChangedBlock) -> str:
    return f'"{block.block.title}" ({block.path}, {block.change})'


def _names(holders: Iterable[Holder]) -> str:
    return ", ".join(str(h) for h in holders) or "nobody"


def _speaks_for(holder: Holder, login: str, teams: Mapping[str, frozenset[str]]) -> bool:
    if holder.login is not None:
        return holder.login.casefold() == login.casefold()
    members = teams.get(holder.team or "", frozenset())
    return login.casefold() in {m.casefold() for m in members}
