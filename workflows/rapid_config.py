"""The `.github/rapid.yml` policy as plain data (docs/architecture.md#policy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from rapidvet.checks.options import DEFAULT_KINDS, CheckOptions, Kind

ROLES = ("R", "A", "P", "I", "D")


@dataclass(frozen=True)
class PathRule:
    """One `paths:` entry. Role values are holders as written (alias, @user or @org/team)."""

    pattern: str
    roles: Mapping[str, tuple[str, ...]]
    block: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Policy:
    required_roles: tuple[str, ...] = ("D", "A")
    team_approval: str = "any"  # any | all
    author_can_satisfy: bool = False
    doc_rapid_must_match: bool = True
    stale_after_days: int = 365
    dismiss_on: str = "content"  # content | push | never
    request_input: bool = True


@dataclass(frozen=True)
class ChecksSettings:
    one_page_lines: int = 60
    max_page_bytes: int = 1_000_000
    rules: Mapping[str, str] = field(default_factory=dict)
    kinds: tuple[Kind, ...] = DEFAULT_KINDS
    exclude: Sequence[str] = ()  # globs of pages the command line skips


@dataclass(frozen=True)
class MergeSettings:
    record: str = "direct"  # direct | pull_request | off
    previous_versions_limit: int = 5
    # Record plans merged without their RAPID review succeeding (an admin's bypass) as vetted.
    record_unvetted: bool = False


@dataclass(frozen=True)
class RapidConfig:
    version: int = 1
    aliases: Mapping[str, str] = field(default_factory=dict)
    paths: tuple[PathRule, ...] = ()
    policy: Policy = field(default_factory=Policy)
    unavailable: frozenset[str] = frozenset()
    checks: ChecksSettings = field(default_factory=ChecksSettings)
    merge: MergeSettings = field(default_factory=MergeSettings)
    source: str = ".github/rapid.yml"

    def resolve(self, holder: str) -> str:
        """An alias resolved to its handle; handles and unknown names come back as they are."""
        return self.aliases.get(holder, holder)

    def check_options(self, today: date, toc: frozenset[str] | None = None) -> CheckOptions:
        return CheckOptions(
            today=today,
            kinds=self.checks.kinds,
            one_page_lines=self.checks.one_page_lines,
            max_page_bytes=self.checks.max_page_bytes,
            stale_after_days=self.policy.stale_after_days,
            rules=self.checks.rules,
            aliases=frozenset(self.aliases) if self.aliases else None,
            toc=toc,
        )
