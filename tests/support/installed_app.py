"""The App's own code run in the test's process against the fake GitHub: installed on acme, with
the handbook repository of `tests.support.e2e`, a SQLite store in a temporary folder and the
checking children. For tests of one module (the evaluation, the merge record) that need a real
GitHub client and store but no `rapidvet serve` process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.github.auth import GitHubApp
from rapidvet.app.jobs.isolation import CheckPool
from rapidvet.app.settings import Settings
from rapidvet.app.store import Store
from rapidvet.app.store.sqlite import SqliteStore
from tests.support.e2e import FILES, REPO, create_handbook, install_app
from tests.support.fake_github import FakeGitHub

T = TypeVar("T")
TODAY = date(2026, 11, 23)
WEB_URL = "https://github.com"  # where the merge record's links point
BRANCH = "plan-update"


@dataclass
class InstalledApp:
    """The fake GitHub with the App installed and the handbook created; what a job gets."""

    fake: FakeGitHub
    store: SqliteStore
    database: Path
    settings: Settings
    installation: int
    pool: CheckPool

    def context(self, store: Store | None = None) -> Context:
        return Context(store or self.store, WEB_URL, lambda: TODAY)

    def run(self, steps: Callable[[GitHubAPI], Awaitable[T]]) -> T:
        """Run `steps` as one job does: its own App (token, conditional-request cache), a
        client bound to the handbook repository, and one checking budget."""

        async def main() -> T:
            async with GitHubApp(self.settings) as app:
                with self.pool.job():
                    return await steps(await app.installation_api(self.installation, [REPO]))

        return asyncio.run(main())

    def propose(self, files: Mapping[str, str | None]) -> int:
        """A pull request by `author` from a new branch writing `files`; its number."""
        self.fake.create_branch(REPO, BRANCH)
        self.push(files)
        return int(self.fake.open_pull_request(REPO, BRANCH, user="author")["number"])

    def push(self, files: Mapping[str, str | None]) -> str:
        """A commit on the pull request's branch; its sha."""
        return str(self.fake.commit(REPO, BRANCH, dict(files), author="author")["sha"])

    def approve(self, number: int, *logins: str) -> None:
        for login in logins:
            self.fake.add_review(REPO, number, login, "APPROVED")

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The GitHub requests made after the first `since` (see `seen`)."""
        return list(self.fake.requests())[since:]

    def seen(self) -> int:
        """How many GitHub requests were made so far, to look at the later ones."""
        return len(self.fake.requests())


class Killed(BaseException):
    """The worker process was killed: no handler catches it."""


class DiesWriting(SqliteStore):
    """The store of a worker killed just as it writes a record `fatal(scope, value)` picks:
    what the job did on GitHub before then is done, but the store never learns of it."""

    def __init__(self, path: Path, fatal: Callable[[str, str], bool]) -> None:
        super().__init__(str(path))
        self.fatal = fatal

    def put_value(self, scope: str, key: str, value: str) -> None:
        if self.fatal(scope, value):
            raise Killed(f"killed writing {scope} {key}")
        super().put_value(scope, key, value)

    def claim_value(self, scope: str, key: str, value: str) -> bool:
        if self.fatal(scope, value):
            raise Killed(f"killed claiming {scope} {key}")
        return super().claim_value(scope, key, value)


def installed(fake: FakeGitHub, files: dict[str, str] | None = None) -> tuple[Settings, int]:
    """The App installed on acme (team leads: lee, lou) with REPO holding `files` (the example
    handbook by default): the settings that name the App, and the installation's id."""
    credentials = install_app(fake)
    create_handbook(fake, REPO, files or FILES)
    installation = fake.state.installation_for(fake.state.repos[REPO])
    assert installation is not None
    settings = Settings(
        app_id=credentials.app_id,
        private_key=credentials.private_key,
        webhook_secret=credentials.webhook_secret,
        github_url=fake.url,
    )
    return settings, installation.id


@contextmanager
def installed_app(
    fake: FakeGitHub, tmp: Path, pool: CheckPool, files: dict[str, str] | None = None
) -> Iterator[InstalledApp]:
    """`installed`, with rapidvet's store, closed at the end."""
    settings, installation = installed(fake, files)
    database = tmp / "rapidvet.db"
    store = SqliteStore(str(database))
    store.migrate()
    try:
        yield InstalledApp(fake, store, database, settings, installation, pool)
    finally:
        store.close()
