"""The teams of a repository's organization, as GitHub tells the App: who is in a team, and
whether a team may be asked to review on a repository."""

from __future__ import annotations

from collections.abc import Iterable

from gidgethub import BadRequest, RateLimitExceeded
from gidgethub.abc import GitHubAPI

from rapidvet.app.github.files import owner_repo
from rapidvet.app.github.retry import SecondaryRateLimited
from rapidvet.workflows.roles import Holder

TEAM_MEMBERS = "/orgs/{org}/teams/{team_slug}/members{?per_page}"
TEAM_REPOSITORY = "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}"


async def team_members(
    gh: GitHubAPI, repo: str, handles: Iterable[str]
) -> dict[str, frozenset[str]]:
    """Members of each `@org/team` handle of the organization that owns `repo`, keyed by
    team slug. Other organizations' teams are not looked up: the job's client may not, and
    the decision reports them as holders nobody can stand for."""
    owner = owner_repo(repo)["owner"]
    teams: dict[str, frozenset[str]] = {}
    for handle in sorted(set(handles)):
        if Holder(handle, handle).outside(owner):
            continue
        org, slug = handle.lstrip("@").split("/", 1)
        members = gh.getiter(TEAM_MEMBERS, {"org": org, "team_slug": slug, "per_page": "100"})
        teams[slug] = frozenset([str(m["login"]) async for m in members])
    return teams


async def team_has_access(gh: GitHubAPI, repo: str, slug: str) -> bool:
    """Whether the team `slug` of `repo`'s owner may be asked to review on `repo`."""
    # /rest/teams/teams#check-team-permissions-for-a-repository: 404 when the team has none.
    names = owner_repo(repo)
    try:
        await gh.getitem(TEAM_REPOSITORY, {**names, "org": names["owner"], "team_slug": slug})
    except BadRequest as err:
        if err.status_code != 404 or isinstance(err, RateLimitExceeded | SecondaryRateLimited):
            raise
        return False
    return True
