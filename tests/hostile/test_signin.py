"""Taking over sign-in and set-up: a `next` that leads off the server, registering the App
before its admin does, a session cookie replayed after signing out, and X-Forwarded-Proto sent
by someone other than the proxy. Each through the real `rapidvet serve` and the fake GitHub."""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from rapidvet.app.jobs import periodic
from rapidvet.app.settings import Settings, SettingsError, load_settings
from rapidvet.app.store.records import SIGNIN
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.app.web.pages.auth import local_path
from rapidvet.app.web.pages.session import COOKIE, cookie_key
from rapidvet.app.web.pages.setup_code import FAILURE_SECONDS, FAILURES_ALLOWED
from rapidvet.app.web.signins import SESSION_SECONDS, SignIns, Viewer
from tests.app.web.test_pages_auth import REPO_PAGE, World, world  # noqa: F401  (the fixture)
from tests.support.page_client import (
    SETUP_CODE,
    Browser,
    Page,
    logged_setup_code,
    register_app,
    unconfigured_env,
)
from tests.support.service import running_service

# -- Row 5: where signing in leads back to ----------------------------------------------------

# `next` as the handler reads it (decoded once): none of these is a path on this server.
OFF_THE_SERVER = [
    "",
    "//evil.example.com/",
    "/\t/evil.example.com/",
    "/\n/evil.example.com/",
    "/\r\n/evil.example.com/",
    "\t//evil.example.com/",
    " /evil",
    "/\\evil.example.com",
    "\\\\evil.example.com",
    "/\\/evil.example.com",
    "https://evil.example.com/",
    "https:evil.example.com",
    "javascript:alert(1)",
    "evil.example.com",
    "/\u3000/evil.example.com",  # an ideographic space
    "/\x00/evil.example.com",
]
ON_THE_SERVER = ["/", "/acme/handbook", "/acme/handbook/pull/3?tab=roles#timeline", "/%2F%2Fx"]


@pytest.mark.parametrize("target", OFF_THE_SERVER)
def test_a_target_off_the_server_leads_to_the_front_page(target):
    assert local_path(target) == "/"


@pytest.mark.parametrize("target", ON_THE_SERVER)
def test_a_path_on_the_server_is_kept(target):
    assert local_path(target) == target


# `next` as sent on the wire, percent-encoded.
SENT_OFF_THE_SERVER = [
    "/%09/evil.example.com/",
    "/%0a/evil.example.com/",
    "/%0D%0A/evil.example.com/",
    "%2F%2Fevil.example.com",
    "%09%2F%2Fevil.example.com",
    "/%5Cevil.example.com",
    "%5C%5Cevil.example.com",
    "https%3A%2F%2Fevil.example.com",
    "/%E3%80%80/evil.example.com",
]


def signed_in_to(served: World, sent_next: str) -> str:
    """Where the server sends the browser once GitHub signed it in, from /login?next=..."""
    served.fake.sign_in_as("dee")
    browser = Browser(follow=False)
    start = browser.get(f"{served.server.url}/login?next={sent_next}")
    callback = browser.get(start.headers["Location"])  # GitHub's page, back to the server
    done = browser.get(callback.headers["Location"])
    assert done.status == 302, done.text
    return str(done.headers["Location"])


def test_signing_in_never_leads_off_the_server(world):  # noqa: F811
    for sent in SENT_OFF_THE_SERVER:
        assert signed_in_to(world, sent) == "/", sent
    assert signed_in_to(world, "%2Facme%2Fhandbook%3Ftab%3D1") == "/acme/handbook?tab=1"


# -- Row 6: registering the App before its admin does -----------------------------------------


def manifest_forms(page: Page) -> list[str]:
    return [form.action for form in page.forms() if "/apps/new" in form.action]


def test_a_stranger_without_the_code_cannot_register_the_app(fake_github, tmp_path):
    env = unconfigured_env(tmp_path, fake_github.url)
    env.pop("RAPIDVET_SETUP_TOKEN")  # the server makes its own code and logs it
    with running_service(env, tmp_path) as server:
        code = logged_setup_code(server)
        stranger = Browser()
        for path in ("/", "/?org=mallorg"):
            page = stranger.get(server.url + path)
            assert page.status == 200 and manifest_forms(page) == [], path
        form = page.form("/setup/code")
        for guess in ("", "AAAAA-AAAAA-AAAAA-AAAAA", code[:-1]):
            refused = stranger.submit(form, code=guess)
            assert refused.status == 403 and "not the set-up code" in refused.text
            assert manifest_forms(refused) == []
        assert manifest_forms(stranger.get(server.url + "/")) == []
        forged = stranger.get(f"{server.url}/setup/callback?code=abc&state=forged")
        assert forged.status == 400
        assert fake_github.state.app is None  # nothing registered on GitHub either

        # The admin, with the code from the log, registers it; then the code opens nothing.
        fake_github.sign_in_as("olive")
        installed = register_app(Browser(), server.url, code)
        assert installed.url == f"{fake_github.url}/apps/rapidvet/installations/new"
        assert fake_github.state.app.owner.login == "olive"
        late = stranger.submit(form, code=code)
        assert late.status == 409 and "set up already" in late.text


def test_guessing_the_code_is_rate_limited(fake_github, tmp_path):
    with running_service(unconfigured_env(tmp_path, fake_github.url), tmp_path) as server:
        # A code the environment sets is never written to the log.
        assert "set-up code: the value of RAPIDVET_SETUP_TOKEN" in server.logs()
        assert SETUP_CODE not in server.logs()
        browser = Browser()
        form = browser.get(server.url + "/").form("/setup/code")
        for _ in range(FAILURES_ALLOWED):
            assert browser.submit(form, code="wrong-code").status == 403
        locked = browser.submit(form, code=SETUP_CODE)  # even the right one, for a while
        assert locked.status == 429 and locked.headers["Retry-After"] == str(FAILURE_SECONDS)
        assert "Too many wrong set-up codes" in locked.text
        assert manifest_forms(browser.get(server.url + "/")) == []


# -- Row 8: a session cookie replayed after signing out ---------------------------------------


def session_cookie(browser: Browser) -> str:
    (value,) = [cookie.value for cookie in browser.cookies if cookie.name == COOKIE]
    assert value
    return value.strip('"')  # quoted in the header: a Fernet token ends in "="


def test_a_cookie_replayed_after_signing_out_is_signed_out(world):  # noqa: F811
    dee = world.browser_of("dee")
    copied = session_cookie(dee)

    def replayed() -> Page:
        thief = Browser(follow=False, headers={"Cookie": f"{COOKIE}={copied}"})
        return thief.get(world.server.url + REPO_PAGE)

    assert replayed().status == 200  # the copy works while dee is signed in
    out = dee.submit(dee.get(world.server.url + REPO_PAGE).form("/logout"))
    assert "You are signed out" in out.text
    after = replayed()
    assert after.status == 302 and after.headers["Location"].startswith("/login?")


def test_the_github_token_stays_on_the_server_sealed(world):  # noqa: F811
    dee = world.browser_of("dee")
    (token,) = [t.value for t in world.fake.state.user_tokens.values() if t.login == "dee"]
    settings = load_settings(world.env, env_file=None)
    cookie_fernet = Fernet(base64.urlsafe_b64encode(cookie_key(settings)))
    in_cookie = cookie_fernet.decrypt(session_cookie(dee)).decode()
    assert token not in in_cookie and "dee" not in in_cookie
    with sqlite3.connect(world.server.database) as db:
        sealed = [
            v for (v,) in db.execute("SELECT value FROM records WHERE scope = ?", (SIGNIN.scope,))
        ]
    assert len(sealed) == 1 and token not in sealed[0] and "dee" not in sealed[0]


def test_sign_ins_expire_and_are_pruned(tmp_path):
    store = SqliteStore(str(tmp_path / "rapidvet.db"))
    store.migrate()
    fernet = Fernet(Fernet.generate_key())
    old = SignIns(store, fernet).begin(Viewer("dee", "ghu_old"))
    ended = SignIns(store, fernet).begin(Viewer("ivy", "ghu_ended"))
    SignIns(store, fernet).end(ended)
    later = SignIns(store, fernet, clock=lambda: time.time() + SESSION_SECONDS + 1)
    assert later.find(old) is None  # expired, though the prune has not run yet
    store.db.execute("UPDATE records SET updated_at = updated_at - ?", (SESSION_SECONDS + 1,))
    kept = SignIns(store, fernet).begin(Viewer("lee", "ghu_kept"))
    asyncio.run(periodic.prune(store, Settings()))
    assert len(SIGNIN.all(store)) == 1
    assert SignIns(store, fernet).find(kept) == Viewer("lee", "ghu_kept")
    store.close()


# -- Row 11: the cookie's Secure flag behind a TLS-terminating proxy --------------------------


@pytest.mark.parametrize(("trusted", "believed"), [("127.0.0.1", True), ("10.0.0.0/8,::1", False)])
def test_x_forwarded_proto_counts_from_a_trusted_proxy_only(
    fake_github, tmp_path, trusted, believed
):
    env = unconfigured_env(tmp_path, fake_github.url, RAPIDVET_TRUSTED_PROXIES=trusted)
    with running_service(env, tmp_path) as server:
        register_app(Browser(), server.url)
        host = urlsplit(server.url).netloc
        for headers, https in (({"X-Forwarded-Proto": "https"}, believed), ({}, False)):
            start = Browser(follow=False, headers=headers).get(server.url + "/login?next=/")
            cookie = SimpleCookie(start.headers["Set-Cookie"])[COOKIE]
            assert bool(cookie["secure"]) == https, (headers, start.headers["Set-Cookie"])
            sent_to = parse_qs(urlsplit(start.headers["Location"]).query)["redirect_uri"]
            scheme = "https" if https else "http"
            assert sent_to == [f"{scheme}://{host}/login/callback"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAPIDVET_TRUSTED_PROXIES", "10.0.0.300", "RAPIDVET_TRUSTED_PROXIES: '10.0.0.300' does"),
        ("RAPIDVET_TRUSTED_PROXIES", "10.0.0.0/8;::1", "RAPIDVET_TRUSTED_PROXIES: '10.0.0.0/8;"),
        ("RAPIDVET_SETUP_TOKEN", "short", "RAPIDVET_SETUP_TOKEN must be at least 16 characters"),
    ],
)
def test_settings_that_would_weaken_a_defence_stop_start_up(name, value, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings({name: value}, env_file=None)


def test_trusted_proxies_are_addresses_and_ranges():
    settings = load_settings({"RAPIDVET_TRUSTED_PROXIES": " 10.0.0.0/8, ::1 ,"}, env_file=None)
    assert [str(network) for network in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
