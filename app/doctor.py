"""What stands between a repository and a working RAPID review, read through the App's own
eyes: is `RAPID review` a required check, can the App commit the merge record to the default
branch, can it see every team rapid.yml names. Each finding says what to click to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from rapidvet.app.github import GitHubApp
from rapidvet.app.pull_snapshot import TEAM_MEMBERS, read_config
from rapidvet.app.repo_files import owner_repo
from rapidvet.checks.paths import url_path
from rapidvet.workflows.rapid_config import RapidConfig
from rapidvet.workflows.roles import Holder

CHECK_NAME = "RAPID review"
REPO = "/repos/{owner}/{repo}"
INSTALLATION = "/repos/{owner}/{repo}/installation"
BRANCH = "/repos/{owner}/{repo}/branches/{+branch}"
BRANCH_RULES = "/repos/{owner}/{repo}/rules/branches/{+branch}{?per_page}"
RULESET = "/repos/{owner}/{repo}/rulesets/{ruleset_id}"
# Rule types that stop a direct commit (GitHub's "available rules for rulesets").
PUSH_RULES = frozenset({"pull_request", "required_status_checks", "update"})
BYPASSING = frozenset({"always", "exempt"})


@dataclass(frozen=True)
class Finding:
    """One sentence about the repository; `fix` (what to click) when something is wrong."""

    text: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.fix is None


class NotInstalled(Exception):
    """The App is not installed on the repository: nothing else can be read."""


async def diagnose(github: GitHubApp, repo: str) -> list[Finding]:
    names = owner_repo(repo)
    try:
        installation: Any = await github.app_api().getitem(INSTALLATION, names)
    except BadRequest as err:
        if err.status_code == 404:
            raise NotInstalled(repo) from err
        raise
    gh = await github.installation_api(int(installation["id"]), repositories=(repo,))
    branch = str((await gh.getitem(REPO, names))["default_branch"])
    read = await read_config(gh, repo, branch)
    findings: list[Finding] = []
    if read.error is not None:
        findings.append(
            Finding(
                f"{read.path} on {branch} is not valid: {read.error.problems[0]}",
                f"correct {read.path} (run `rapidvet config check` on it).",
            )
        )
    rules = [r async for r in gh.getiter(BRANCH_RULES, {**names, "branch": url_path(branch)})]
    protection = (await gh.getitem(BRANCH, {**names, "branch": url_path(branch)})).get(
        "protection"
    ) or {}
    findings.append(_required_check(branch, rules, protection))
    findings += await _push(gh, names, branch, read.config, rules, protection)
    findings += await _teams(gh, repo, read.config)
    return findings


def _required_check(
    branch: str, rules: list[dict[str, Any]], protection: dict[str, Any]
) -> Finding:
    contexts = {
        check["context"]
        for rule in rules
        if rule["type"] == "required_status_checks"
        for check in rule.get("parameters", {}).get("required_status_checks", [])
    } | set((protection.get("required_status_checks") or {}).get("contexts", []))
    if CHECK_NAME in contexts:
        return Finding(f"`{CHECK_NAME}` is a required check on {branch}.")
    return Finding(
        f"`{CHECK_NAME}` is not a required check on {branch}: a pull request can be merged "
        "before its plan is vetted.",
        f"Settings → Rules → Rulesets → New branch ruleset, target {branch}, tick “Require "
        f"status checks to pass”, add `{CHECK_NAME}`, and add this App to its bypass list so "
        "it can still commit the merge record.",
    )


async def _push(
    gh: GitHubAPI,
    names: dict[str, str],
    branch: str,
    config: RapidConfig,
    rules: list[dict[str, Any]],
    protection: dict[str, Any],
) -> list[Finding]:
    if config.merge.record != "direct":
        mode = config.merge.record
        return [Finding(f"merge.record is {mode}: the App does not commit to {branch}.")]
    blocking = sorted({int(r["ruleset_id"]) for r in rules if r["type"] in PUSH_RULES})
    findings = []
    for ruleset_id in blocking:
        ruleset: Any = await gh.getitem(RULESET, {**names, "ruleset_id": str(ruleset_id)})
        if ruleset.get("current_user_can_bypass") not in BYPASSING:
            findings.append(
                Finding(
                    f"The ruleset “{ruleset['name']}” stops the App from committing the merge "
                    f"record to {branch}; records go to follow-up pull requests instead.",
                    f"Settings → Rules → Rulesets → “{ruleset['name']}” → Bypass list → Add "
                    "bypass → this App (Always allow).",
                )
            )
    if protection.get("enabled"):
        findings.append(
            Finding(
                f"Classic branch protection on {branch} stops the App from committing the "
                "merge record (GitHub lets no App bypass its required checks); records go to "
                "follow-up pull requests instead.",
                f"Settings → Branches → the rule for {branch} → move its checks to a ruleset "
                "with this App on the bypass list (Settings → Rules → Rulesets), or set "
                "`merge.record: pull_request` in rapid.yml.",
            )
        )
    if not findings:
        findings.append(Finding(f"The App can commit the merge record to {branch}."))
    return findings


def _team_handles(config: RapidConfig) -> list[str]:
    named: Iterable[str] = [
        *config.aliases.values(),
        *(holder for rule in config.paths for held in rule.roles.values() for holder in held),
    ]
    handles = {config.resolve(name) for name in named}
    return sorted(h for h in handles if Holder(h, h).is_team)


async def _teams(gh: GitHubAPI, repo: str, config: RapidConfig) -> list[Finding]:
    owner = owner_repo(repo)["owner"]
    findings = []
    for handle in _team_handles(config):
        if Holder(handle, handle).outside(owner):
            findings.append(
                Finding(
                    f"{handle} is a team of another organization: the App cannot see it.",
                    f"name a team of {owner} in rapid.yml instead.",
                )
            )
            continue
        org, slug = handle.lstrip("@").split("/", 1)
        try:
            await gh.getitem(TEAM_MEMBERS, {"org": org, "team_slug": slug, "per_page": "1"})
        except BadRequest as err:
            if err.status_code not in (403, 404):
                raise
            findings.append(
                Finding(
                    f"The App cannot see the team {handle}.",
                    f"check the team's name in rapid.yml (github.com/orgs/{org}/teams), and "
                    "that the App has the Members (read) organization permission: "
                    f"Settings → GitHub Apps → this App → Permissions.",
                )
            )
            continue
        findings.append(Finding(f"The App can see the team {handle}."))
    return findings
