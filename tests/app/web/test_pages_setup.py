"""Zero-config set-up: the real `rapidvet serve` on an empty database registers its GitHub App
through the manifest flow against the fake GitHub, stores it sealed, and starts working."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from rapidvet.app.github.credentials import AppCredentials, save
from rapidvet.app.settings import Settings
from rapidvet.app.store import Delivery
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.app.web.pages.setup import DIAGNOSED_SHOWN, EVENTS, PERMISSIONS, manifest
from tests.app.web.test_service import PR_OPENED, post, start_up_error
from tests.support.e2e import CONFIG, FILES, REPO, create_handbook
from tests.support.page_client import (
    SECURITY_HEADERS,
    Browser,
    give_setup_code,
    manifest_of,
    register_app,
    unconfigured_env,
)
from tests.support.service import RAPIDVET, SECRET, private_key_pem, running_service, signed


@pytest.fixture
def unconfigured(fake_github, tmp_path):
    with running_service(unconfigured_env(tmp_path, fake_github.url), tmp_path) as server:
        yield server


LOOPBACK_NOTE = "GitHub cannot reach a loopback webhook URL"
BLOCKED_NOTE = 'id="register-blocked"'
COMMANDS = re.compile(r"<pre><code>(.*?)</code></pre>", re.DOTALL)
BARE_PYTHON = "/usr/bin/python3"  # Debian's, without rapidvet's dependencies


def asks_for_everything(page) -> bool:
    """Whether the page lists every permission and event the manifest asks for."""
    listed = [f"<tr><td>{name}</td><td>{access}</td></tr>" for name, access in PERMISSIONS.items()]
    return all(row in page.text for row in listed) and ", ".join(EVENTS) in page.text


def fernet_key_from(command: str) -> str:
    """What a key command shown on the page prints, checked to be a Fernet key."""
    made = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True)
    key = made.stdout.strip()
    Fernet(key)  # raises on anything but 32 url-safe base64-encoded bytes
    return key


def records(database) -> list[str]:
    with sqlite3.connect(database) as db:
        return [value for (value,) in db.execute("SELECT value FROM records")]


def jobs_by_state(database) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())


def test_an_empty_database_shows_the_set_up_form(fake_github, unconfigured):
    browser = Browser()
    page = give_setup_code(browser, unconfigured.url)
    assert page.status == 200 and "<h1>Set up rapidvet</h1>" in page.text
    for header in SECURITY_HEADERS:
        assert header in page.headers
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    form = page.form("/apps/new")
    assert form.method == "post"
    assert form.action.startswith(f"{fake_github.url}/settings/apps/new?state=")
    assert manifest_of(page) == manifest(unconfigured.url, "")
    # Opened at the server's loopback address: the button works, and says GitHub cannot reach it.
    assert LOOPBACK_NOTE in page.text and BLOCKED_NOTE not in page.text
    assert 'aria-describedby="register-loopback"' in page.text
    assert asks_for_everything(page)

    # An organization owns it: GitHub's page of that organization, the manifest named for it.
    for_org = browser.submit(page.form(unconfigured.url + "/"), org="acme")
    form = for_org.form("/apps/new")
    assert form.action.startswith(f"{fake_github.url}/organizations/acme/settings/apps/new?")
    assert manifest_of(for_org)["name"] == "rapidvet-acme"

    bad = browser.submit(page.form(unconfigured.url + "/"), org="<b>acme</b>")
    assert bad.status == 400
    assert "&lt;b&gt;acme&lt;/b&gt;" in bad.text and "<b>acme" not in bad.text
    assert not [f for f in bad.forms() if "/apps/new" in f.action]


def test_the_manifest_names_the_public_url_and_is_escaped(fake_github, tmp_path):
    env = unconfigured_env(
        tmp_path, fake_github.url, RAPIDVET_PUBLIC_URL="https://rapidvet.example.com"
    )
    with running_service(env, tmp_path) as server:
        page = give_setup_code(Browser(), server.url)
    sent = manifest_of(page)
    assert sent == manifest("https://rapidvet.example.com", "")
    assert sent["hook_attributes"]["url"] == "https://rapidvet.example.com/webhooks"
    assert sent["redirect_url"] == "https://rapidvet.example.com/setup/callback"
    assert sent["callback_urls"] == ["https://rapidvet.example.com/login/callback"]
    # The JSON sits in an attribute: every quote escaped, nothing that could end it.
    assert 'value="{&#34;name&#34;: &#34;rapidvet&#34;' in page.text
    assert LOOPBACK_NOTE not in page.text and BLOCKED_NOTE not in page.text


def test_without_the_public_url_a_strangers_address_cannot_be_registered(fake_github, unconfigured):
    """Opened through a proxy at a name of its own, with RAPIDVET_PUBLIC_URL unset, the page
    would make the webhook URL of the Host header: the button is off and says why, beside it."""
    browser = Browser()
    give_setup_code(browser, unconfigured.url)
    proxied = {"Host": "rapidvet.example.org"}
    page = browser.get(unconfigured.url + "/?org=acme", headers=proxied)
    assert page.status == 200
    assert not [f for f in page.forms() if "/apps/new" in f.action]
    button = re.search(r"<button [^>]*disabled[^>]*>\s*Register rapidvet-acme", page.text)
    assert button and 'aria-describedby="register-blocked"' in button.group(0), page.text
    assert BLOCKED_NOTE in page.text and "<code>http://rapidvet.example.org</code>" in page.text
    assert "set <code>RAPIDVET_PUBLIC_URL</code>" in page.text
    assert asks_for_everything(page)


def test_without_a_secret_key_the_page_says_how_to_make_one(fake_github, tmp_path):
    env = unconfigured_env(tmp_path, fake_github.url)
    env.pop("RAPIDVET_SECRET_KEY")
    with running_service(env, tmp_path) as server:
        page = Browser().get(server.url + "/")
    assert page.status == 200 and "RAPIDVET_SECRET_KEY" in page.text
    assert not [f for f in page.forms() if "/apps/new" in f.action]
    # What the opening paragraph promises is there before the key is.
    assert "the permissions and events listed below" in page.text and asks_for_everything(page)
    assert "RAPIDVET_PUBLIC_URL" in page.text.split('id="asks-heading"')[0]
    rapidvet, python = [html.unescape(c) for c in COMMANDS.findall(page.text)]
    assert rapidvet == "rapidvet secret-key"
    fernet_key_from(rapidvet.replace("rapidvet", RAPIDVET, 1))
    assert python.startswith("python3 -c ")  # Debian has no `python`
    if not Path(BARE_PYTHON).exists():
        pytest.skip(f"no {BARE_PYTHON} to run the page's python3 command on")
    # -I -S: the standard library only (no dist-packages), as on a bare Debian.
    fernet_key_from(python.replace("python3 -c", f"{BARE_PYTHON} -I -S -c", 1))


def test_registering_the_app_stores_it_sealed_and_opens_the_webhooks(fake_github, unconfigured):
    body = json.dumps(PR_OPENED).encode()
    assert post(unconfigured.url + "/webhooks", body, signed(body, "pull_request"))[0] == 503

    browser = Browser()
    form = give_setup_code(browser, unconfigured.url).form("/apps/new")
    state = parse_qs(urlsplit(form.action).query)["state"][0]
    installed = browser.submit(form)
    assert installed.status == 200
    assert installed.url == f"{fake_github.url}/apps/rapidvet/installations/new"

    (record,) = records(unconfigured.database)
    assert "PRIVATE KEY" not in record and "sealed" in record
    app = fake_github.state.app
    assert app.webhook_secret not in record and app.client_secret not in record
    assert json.loads(record)["app_id"] == app.id
    assert app.permissions == manifest(unconfigured.url, "")["default_permissions"]
    assert app.webhook_url == unconfigured.url + "/webhooks"

    # No restart: GitHub's deliveries are accepted and the worker runs them.
    installation = fake_github.create_installation("acme")
    delivery = fake_github.send_webhook("installation.created", installation_id=installation["id"])
    assert delivery["status_code"] == 202
    deadline = time.monotonic() + 30
    while jobs_by_state(unconfigured.database) != {"done": 1}:
        assert time.monotonic() < deadline, unconfigured.logs()
        time.sleep(0.05)

    # The code and state worked once.
    again = browser.get(f"{unconfigured.url}/setup/callback?code=abc&state={state}")
    assert again.status == 400 and "not valid" in again.text


def test_a_callback_without_the_browsers_state_is_refused(fake_github, unconfigured):
    browser = Browser()
    give_setup_code(browser, unconfigured.url)
    forged = browser.get(f"{unconfigured.url}/setup/callback?code=abc&state=forged")
    assert forged.status == 400 and "This set-up link is not valid" in forged.text
    stranger = Browser().get(f"{unconfigured.url}/setup/callback?code=abc&state=forged")
    assert stranger.status == 400

    # The right state with a code GitHub never gave: GitHub refuses it, nothing is stored.
    form = browser.get(unconfigured.url + "/").form("/apps/new")
    state = parse_qs(urlsplit(form.action).query)["state"][0]
    unknown = browser.get(f"{unconfigured.url}/setup/callback?code=abc&state={state}")
    assert unknown.status == 400 and "GitHub did not accept the set-up code" in unknown.text
    assert records(unconfigured.database) == []


def test_once_set_up_only_the_apps_owners_see_the_page(fake_github, unconfigured):
    fake_github.sign_in_as("olive")
    owner = Browser()
    register_app(owner, unconfigured.url)
    fake_github.create_installation("acme")
    fake_github.create_repo("acme/handbook", files={"README.md": "# Handbook\n"})
    page = owner.get(unconfigured.url + "/")  # through GitHub's sign-in and back
    assert page.status == 200 and page.url == unconfigured.url + "/"
    assert "Signed in as <strong>olive</strong>" in page.text
    assert '<h2 id="health-heading">Health</h2>' in page.text
    assert '<a href="/acme/handbook">acme/handbook</a>' in page.text

    fake_github.sign_in_as("mallory")
    stranger = Browser().get(unconfigured.url + "/")
    assert stranger.status == 403 and "Only the App&#39;s owners see this page" in stranger.text


def test_the_page_shows_what_doctor_finds_escaped_and_capped(fake_github, unconfigured):
    owner = Browser()
    register_app(owner, unconfigured.url)
    fake_github.create_installation("acme")
    fake_github.set_team_members("acme", "leads", ["lee"])
    create_handbook(fake_github, REPO, FILES)
    fake_github.set_team_repository("acme", "leads", REPO, None)
    hostile = CONFIG.replace('"@acme/leads"', '"@acme/<b>x</b>"')
    fake_github.create_repo("acme/hostile", files={".github/rapid.yml": hostile})
    for n in range(DIAGNOSED_SHOWN):
        fake_github.create_repo(f"acme/other-{n:02}", files={"README.md": "hi\n"})
    page = owner.get(unconfigured.url + "/")
    assert page.status == 200
    shown = page.text.split('id="doctor-heading"')[1].split("</section>")[0]
    assert shown.count("<h3>") == DIAGNOSED_SHOWN
    assert "And 2 more: run <code>rapidvet doctor OWNER/REPO</code> for each." in shown
    assert (
        f'<strong class="bad">To fix:</strong> The team @acme/leads has no access to {REPO}: '
        "GitHub refuses to request its review.\n      What to do: Settings → Collaborators and "
        "teams → Add teams → @acme/leads (Read or more)."
    ) in shown
    assert "RAPID review is not a required check on main" in shown
    assert "got &#39;@acme/&lt;b&gt;x&lt;/b&gt;&#39;" in shown and "<b>x" not in page.text


def test_an_organizations_app_is_for_its_owners(fake_github, unconfigured):
    browser = Browser()
    give_setup_code(browser, unconfigured.url)
    page = browser.get(unconfigured.url + "/?org=acme")
    browser.submit(page.form("/apps/new"))
    fake_github.set_org_role("acme", "olive", "admin")
    fake_github.set_org_role("acme", "mike", "member")
    for login, status in (("olive", 200), ("mike", 403)):
        fake_github.sign_in_as(login)
        assert Browser().get(unconfigured.url + "/").status == status


def stored_app(tmp_path, key: str) -> AppCredentials:
    """Credentials stored in the database of a server about to start, as the set-up page
    would have stored them."""
    credentials = AppCredentials(
        app_id=9, private_key=private_key_pem(), webhook_secret="stored-secret", slug="rapidvet"
    )
    store = SqliteStore(str(tmp_path / "rapidvet.db"))
    store.migrate()
    save(store, Settings(secret_key=key), credentials)
    store.close()
    return credentials


def test_the_environment_overrides_the_database(tmp_path):
    key = Fernet.generate_key().decode()
    stored_app(tmp_path, key)
    env = unconfigured_env(tmp_path, "http://127.0.0.1:9", RAPIDVET_SECRET_KEY=key)
    body = json.dumps(PR_OPENED).encode()
    with running_service(env, tmp_path, "--no-worker") as server:
        assert (
            post(
                server.url + "/webhooks", body, signed(body, "pull_request", "a", "stored-secret")
            )[0]
            == 202
        )
    env["RAPIDVET_WEBHOOK_SECRET"] = SECRET
    body = json.dumps(PR_OPENED | {"number": 2}).encode()  # the first body is stored: a replay
    with running_service(env, tmp_path, "--no-worker") as server:
        assert post(server.url + "/webhooks", body, signed(body, "pull_request", "b"))[0] == 202
        refused = signed(body, "pull_request", "c", "stored-secret")
        assert post(server.url + "/webhooks", body, refused)[0] == 401


def test_a_wrong_secret_key_stops_start_up_with_one_line(tmp_path):
    stored_app(tmp_path, Fernet.generate_key().decode())
    env = unconfigured_env(tmp_path, "http://127.0.0.1:9")
    assert start_up_error(env, tmp_path) == (
        "rapidvet: error: RAPIDVET_SECRET_KEY does not decrypt the App credentials stored in"
        " the database: set the key they were stored with"
    )
    env.pop("RAPIDVET_SECRET_KEY")
    assert "set RAPIDVET_SECRET_KEY to the key they were stored with" in start_up_error(
        env, tmp_path
    )
    env["RAPIDVET_SECRET_KEY"] = "not-a-key"
    assert "generate one with: rapidvet secret-key (or python3 -c" in start_up_error(env, tmp_path)


def test_retrying_a_dead_job_needs_the_csrf_token(fake_github, tmp_path):
    env = unconfigured_env(tmp_path, fake_github.url)
    with running_service(env, tmp_path, "--no-worker") as server:
        browser = Browser()
        register_app(browser, server.url)
        store = SqliteStore(str(server.database))
        store.add_delivery(Delivery("dead-1", "push", None, None, None, "installation:1", b"{}"))
        job = store.claim_job("test", 60)
        assert job is not None
        store.bury_job(job.id, "GitHubBroken: <b>boom</b>")

        page = browser.get(server.url + "/")
        assert "GitHubBroken: &lt;b&gt;boom&lt;/b&gt;" in page.text
        form = page.form(f"/setup/dead-jobs/{job.id}/retry")
        assert form.fields["csrf_token"]
        for token in ({}, {"csrf_token": "forged"}):
            refused = browser.post(form.action, token)
            assert refused.status == 403 and "This form has expired" in refused.text
            assert [dead.id for dead in store.dead_jobs()] == [job.id]
        retried = browser.submit(form)
        assert retried.status == 200 and retried.url == server.url + "/#dead-jobs"
        assert store.dead_jobs() == []
        assert store.job_counts().queued == 1

        # Someone else's browser, even with a token of its own, is not an owner.
        fake_github.sign_in_as("mallory")
        other = Browser()
        other.get(server.url + "/")
        store.bury_job(job.id, "again")
        token = other.get(server.url + "/nowhere/x/y").form("/logout").fields["csrf_token"]
        assert other.post(form.action, {"csrf_token": token}).status == 403
        store.close()


def test_security_headers_on_every_response(fake_github, unconfigured):
    browser = Browser(follow=False)
    for path in ("/", "/static/rapidvet.css", "/healthz", "/no/such/page", "/login"):
        page = browser.get(unconfigured.url + path)
        for header in SECURITY_HEADERS:
            assert header in page.headers, (path, header)
    assert browser.get(unconfigured.url + "/no/such/page").status == 404


def test_the_page_parses_each_rapid_yml_within_a_jobs_limits(fake_github, tmp_path):
    # A stranger's rapid.yml is parsed in a checking child, under RAPIDVET_JOB_SECONDS.
    env = unconfigured_env(tmp_path, fake_github.url, RAPIDVET_JOB_SECONDS="0.001")
    with running_service(env, tmp_path, "--no-worker") as server:
        owner = Browser()
        register_app(owner, server.url)
        fake_github.create_installation("acme")
        fake_github.create_repo(REPO, files={".github/rapid.yml": CONFIG})
        page = owner.get(server.url + "/")
    assert page.status == 200
    assert "Its set-up could not be read: GaveUp: checking took longer than 0.001 s" in page.text
