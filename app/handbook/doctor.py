"""What stands between a repository and a working RAPID review, read through the App's own
eyes: is `RAPID review` a required check, can the App commit the merge record to the default
branch, can it see every team rapid.yml names. Each finding says what to click to fix it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from rapidvet.app.github.auth import GitHubApp
from rapidvet.app.github.files import owner_repo
from rapidvet.app.github.teams import TEAM_MEMBERS, team_has_access
from rapidvet.app.handbook.rapid_yml import ConfigRead, config_text, parse_config
from rapidvet.app.jobs.isolation import checked
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


# How rapid.yml's text becomes a config: in this process for the App owner's own command,
# in a checking child (`isolation.checked`) in the web process, where it is a stranger's text.
Parse = Callable[[str | None, str | None], Awaitable[ConfigRead]]


async def parsed_here(path: str | None, text: str | None) -> ConfigRead:
    return parse_config(path, text)


async def parsed_in_child(path: str | None, text: str | None) -> ConfigRead:
    return await checked(parse_config, path, text)


@dataclass(frozen=True)
class Repository:
    """What `findings` judges, as the App reads it."""

    name: str
    branch: str
    config: ConfigRead
    rules: list[dict[str, Any]]  # the default branch's active ruleset rules
    protection: dict[str, Any]  # its classic protection ({} for none)
    unbypassable: list[str]  # names of rulesets stopping a direct commit the App cannot bypass
    teams: dict[str, str]  # team handle -> TEAM_OK, TEAM_OUTSIDE, TEAM_HIDDEN or TEAM_NO_ACCESS


TEAM_OK, TEAM_OUTSIDE, TEAM_HIDDEN, TEAM_NO_ACCESS = "ok", "outside", "hidden", "no access"


async def read_repository(github: GitHubApp, repo: str, parse: Parse = parsed_here) -> Repository:
    """Everything `findings` needs, read with the App's credentials; NotInstalled when the
    App is not installed on `repo`."""
    names = owner_repo(repo)
    try:
        installation: Any = await github.app_api().getitem(INSTALLATION, names)
    except BadRequest as err:
        if err.status_code == 404:
            raise NotInstalled(repo) from err
        raise
    gh = await github.installation_api(int(installation["id"]), repositories=(repo,))
    branch = str((await gh.getitem(REPO, names))["default_branch"])
    config = await parse(*await config_text(gh, repo, branch))
    on_branch = {**names, "branch": url_path(branch)}
    rules = [r async for r in gh.getiter(BRANCH_RULES, on_branch)]
    protection = (await gh.getitem(BRANCH, on_branch)).get("protection") or {}
    unbypassable = []
    if config.config.merge.record == "direct":
        for ruleset_id in sorted({int(r["ruleset_id"]) for r in rules if r["type"] in PUSH_RULES}):
            ruleset: Any = await gh.getitem(RULESET, {**names, "ruleset_id": str(ruleset_id)})
            if ruleset.get("current_user_can_bypass") not in BYPASSING:
                unbypassable.append(str(ruleset["name"]))
    teams = {h: await _team_state(gh, repo, h) for h in _team_handles(config.config)}
    return Repository(repo, branch, config, rules, protection, unbypassable, teams)


async def _team_state(gh: GitHubAPI, repo: str, handle: str) -> str:
    if Holder(handle, handle).outside(owner_repo(repo)["owner"]):
        return TEAM_OUTSIDE
    org, slug = handle.lstrip("@").split("/", 1)
    try:
        await gh.getitem(TEAM_MEMBERS, {"org": org, "team_slug": slug, "per_page": "1"})
    except BadRequest as err:
        if err.status_code not in (403, 404):
            raise
        return TEAM_HIDDEN
    return TEAM_OK if await team_has_access(gh, repo, slug) else TEAM_NO_ACCESS


def findings(repository: Repository) -> list[Finding]:
    """What is set up well and what is wrong with `repository`, in plain sentences."""
    branch, read = repository.branch, repository.config
    found: list[Finding] = []
    if read.error is not None:
        found.append(
            Finding(
                f"{read.path} on {branch} is not valid: {read.error.problems[0]}",
                f"correct {read.path} (run `rapidvet config check` on it).",
            )
        )
    found.append(_required_check(branch, repository.rules, repository.protection))
    found += _push(repository)
    found += [_team(repository.name, h, state) for h, state in repository.teams.items()]
    return found


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


def _push(repository: Repository) -> list[Finding]:
    branch, config = repository.branch, repository.config.config
    if config.merge.record != "direct":
        mode = config.merge.record
        return [Finding(f"merge.record is {mode}: the App does not commit to {branch}.")]
    found = [
        Finding(
            f"The ruleset “{name}” stops the App from committing the merge record to "
            f"{branch}; records go to follow-up pull requests instead.",
            f"Settings → Rules → Rulesets → “{name}” → Bypass list → Add bypass → this App "
            "(Always allow).",
        )
        for name in repository.unbypassable
    ]
    if repository.protection.get("enabled"):
        found.append(
            Finding(
                f"Classic branch protection on {branch} stops the App from committing the "
                "merge record (GitHub lets no App bypass its required checks); records go to "
                "follow-up pull requests instead.",
                f"Settings → Branches → the rule for {branch} → move its checks to a ruleset "
                "with this App on the bypass list (Settings → Rules → Rulesets), or set "
                "`merge.record: pull_request` in rapid.yml.",
            )
        )
    return found or [Finding(f"The App can commit the merge record to {branch}.")]


def _team_handles(config: RapidConfig) -> list[str]:
    named: Iterable[str] = [
        *config.aliases.values(),
        *(holder for rule in config.paths for held in rule.roles.values() for holder in held),
    ]
    handles = {config.resolve(name) for name in named}
    return sorted(h for h in handles if Holder(h, h).is_team)


def _team(repo: str, handle: str, state: str) -> Finding:
    owner = owner_repo(repo)["owner"]
    org = handle.lstrip("@").split("/", 1)[0]
    if state == TEAM_OUTSIDE:
        return Finding(
            f"{handle} is a team of another organization: the App cannot see it.",
            f"name a team of {owner} in rapid.yml instead.",
        )
    if state == TEAM_HIDDEN:
        return Finding(
            f"The App cannot see the team {handle}.",
            f"check the team's name in rapid.yml (github.com/orgs/{org}/teams), and that the "
            "App has the Members (read) organization permission: Settings → GitHub Apps → "
            "this App → Permissions.",
        )
    if state == TEAM_NO_ACCESS:
        return Finding(
            f"The team {handle} has no access to {repo}: GitHub refuses to request its review.",
            f"Settings → Collaborators and teams → Add teams → {handle} (Read or more).",
        )
    return Finding(f"The App can see the team {handle}.")
