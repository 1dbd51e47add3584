"""Who may see what: GitHub sign-in through the App's OAuth client, repository pages for those
who can read the repository (RAPIDVET_PAGES), CSRF on forms, escaping, against the real
`rapidvet serve` and the fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.page_client import SECURITY_HEADERS, Browser, register_app, unconfigured_env
from tests.support.service import Server, running_service

REPO_PAGE = "/acme/handbook"
SECRET_PAGE = "/acme/secret"


@dataclass
class World:
    fake: object
    server: Server
    env: dict[str, str]
    tmp: Path

    def browser_of(self, login: str) -> Browser:
        """A browser signed in as `login` (through GitHub's OAuth pages)."""
        self.fake.sign_in_as(login)
        browser = Browser()
        page = browser.get(self.server.url + "/login?next=" + REPO_PAGE)
        assert page.status == 200 and f"Signed in as <strong>{login}</strong>" in page.text
        return browser


@pytest.fixture
def world(fake_github, tmp_path) -> Iterator[World]:
    """The App registered by octocat through the set-up page and installed on acme, which
    has a public handbook and a private repository only dee may read."""
    env = unconfigured_env(tmp_path, fake_github.url)
    with running_service(env, tmp_path) as server:
        register_app(Browser(), server.url)
        fake_github.create_installation("acme")
        fake_github.create_repo("acme/handbook", files={"README.md": "# Handbook\n"})
        fake_github.create_repo("acme/secret", files={"README.md": "# Secret\n"}, private=True)
        fake_github.add_collaborators("acme/secret", ["dee"])
        yield World(fake_github, server, env, tmp_path)


def test_signing_in_comes_back_to_the_page(world):
    world.fake.sign_in_as("dee")
    first = Browser(follow=False).get(world.server.url + REPO_PAGE)
    assert first.status == 302
    assert first.headers["Location"] == "/login?next=/acme/handbook"

    page = Browser().get(world.server.url + REPO_PAGE)
    assert page.status == 200 and page.url == world.server.url + REPO_PAGE
    assert "Signed in as <strong>dee</strong>" in page.text
    assert "<h1>acme/handbook</h1>" in page.text


def test_the_sign_in_state_is_checked(world):
    browser = Browser(follow=False)
    start = browser.get(world.server.url + "/login?next=/acme/handbook")
    assert start.status == 302
    authorize = urlsplit(start.headers["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == world.fake.url
    assert authorize.path == "/login/oauth/authorize"
    query = parse_qs(authorize.query)
    assert query["redirect_uri"] == [world.server.url + "/login/callback"]
    state = query["state"][0]

    callback = world.server.url + "/login/callback"
    forged = browser.get(f"{callback}?code=x&state=forged")
    assert forged.status == 400 and "This sign-in link is not valid" in forged.text
    # The forged attempt ended the trip: the real state no longer works either.
    assert browser.get(f"{callback}?code=x&state={state}").status == 400

    # A fresh trip, with a code GitHub never gave: GitHub refuses it.
    start = browser.get(world.server.url + "/login")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    refused = browser.get(f"{callback}?code=made-up&state={state}")
    assert refused.status == 400 and "The code passed is incorrect or expired." in refused.text
    assert "Signed in as" not in browser.get(world.server.url + "/login").text

    # Elsewhere, only a local path is where signing in leads back to.
    world.fake.sign_in_as("dee")
    away = Browser().get(world.server.url + "/login?next=//evil.example.com/")
    assert away.url == world.server.url + "/"


def test_a_user_who_cannot_read_the_repository_gets_403(world):
    mallory = world.browser_of("mallory")
    refused = mallory.get(world.server.url + SECRET_PAGE)
    assert refused.status == 403
    assert "GitHub says mallory cannot read acme/secret" in refused.text
    assert mallory.get(world.server.url + REPO_PAGE).status == 200  # public

    dee = world.browser_of("dee")
    asked = len(world.fake.requests())
    for _ in range(3):
        assert dee.get(world.server.url + SECRET_PAGE).status == 200
    # GitHub is asked once; the answer is kept for a few minutes.
    checks = [
        r
        for r in world.fake.requests(since=asked)
        if r["path"] == "/repos/acme/secret" and r["auth"] == "user:dee"
    ]
    assert len(checks) == 1


def test_a_repository_the_app_is_not_installed_on(world):
    world.fake.create_repo("elsewhere/notes", files={"README.md": "# Notes\n"})
    page = world.browser_of("dee").get(world.server.url + "/elsewhere/notes")
    assert page.status == 404 and "Repository not known" in page.text
    assert "The App is not installed on elsewhere/notes" in page.text
    install = f"{world.fake.url}/apps/rapidvet/installations/new"
    assert f'<a href="{install}">Install the App on it</a>' in page.text


@pytest.mark.parametrize(
    ("pages", "status", "text"),
    [("public", 200, "<h1>acme/handbook</h1>"), ("off", 404, "Pages are turned off")],
)
def test_rapidvet_pages_public_and_off(world, pages, status, text):
    world.server.process.terminate()
    world.server.process.wait(10)
    env = {**world.env, "RAPIDVET_PAGES": pages}
    with running_service(env, world.tmp) as server:
        page = Browser().get(server.url + REPO_PAGE)
    assert page.status == status and text in page.text
    assert "Signed in as" not in page.text


def test_signing_out_needs_the_csrf_token(world):
    dee = world.browser_of("dee")
    refused = dee.post(world.server.url + "/logout", {"csrf_token": "forged"})
    assert refused.status == 403 and "This form has expired" in refused.text
    page = dee.get(world.server.url + REPO_PAGE)
    assert "Signed in as <strong>dee</strong>" in page.text
    out = dee.submit(page.form("/logout"))
    assert out.status == 200 and out.url == world.server.url + "/logout"
    assert "You are signed out" in out.text and "Signed in as" not in out.text
    assert dee.get(world.server.url + REPO_PAGE, follow=False).status == 302  # to /login


def test_what_a_page_shows_from_a_request_is_escaped(world):
    browser = Browser()
    page = browser.get(world.server.url + "/acme/handbook/%3Cscript%3Ealert(1)%3C/script%3E")
    assert page.status == 404 and "No such page" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    name = browser.get(world.server.url + "/acme/%3Cb%3Ex")
    assert name.status == 404 and "acme/&lt;b&gt;x is not a repository name" in name.text


def test_security_headers_on_pages_and_errors(world):
    dee = world.browser_of("dee")
    for path in (REPO_PAGE, SECRET_PAGE, "/elsewhere/x", "/login/callback?state=x"):
        page = dee.get(world.server.url + path)
        for header in SECURITY_HEADERS:
            assert header in page.headers, (path, header)
        assert page.headers["Cache-Control"] == "no-store"
        assert "script-src" not in page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
