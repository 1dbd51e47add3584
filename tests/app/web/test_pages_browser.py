"""The three pages as people use them, in Debian's chromium against the real `rapidvet serve`
and the fake GitHub: a new admin registering the App from an empty database, a reviewer
following a pull request's approvals, the dashboard of the corpus handbook, and sign-in
refused to someone who cannot read the repository. Every page is checked with axe-core and
walked with the keyboard; the README's images come from these screenshots."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from playwright.sync_api import Page

from tests.app.web.test_pages_auth import SECRET_PAGE, world  # noqa: F401  (the fixture)
from tests.support.e2e import REPO, Handbook, app_env, install_app, open_handbook
from tests.support.page_client import SETUP_CODE, unconfigured_env
from tests.support.service import running_service


def test_a_new_admin_registers_the_app_in_the_browser(
    fake_github, tmp_path, page: Page, axe_check, keyboard_walk, screenshot
):
    fake_github.sign_in_as("olive")
    with running_service(unconfigured_env(tmp_path, fake_github.url), tmp_path) as server:
        page.goto(server.url + "/")
        assert page.locator("h1").inner_text() == "Set up rapidvet"
        axe_check(page)
        keyboard_walk(page)

        # The set-up code first, by keyboard: a wrong one is said next to its field.
        code = page.get_by_role("textbox", name="Set-up code")
        code.fill("wrong-code")
        code.press("Enter")
        page.wait_for_load_state()
        assert page.get_by_role("alert").inner_text().startswith("That is not the set-up code")
        assert code.get_attribute("aria-invalid") == "true"  # a locator: the new page's field
        axe_check(page)
        code.fill(SETUP_CODE)
        page.get_by_role("button", name="Continue").press("Enter")
        page.wait_for_load_state()
        assert page.get_by_role("button", name="Choose").is_visible()
        axe_check(page)
        screenshot(page, "set-up", readme="setup.png")
        keyboard_walk(page)

        # The owner form, by keyboard: type nothing (the App goes under olive's account).
        page.get_by_role("button", name="Choose").press("Enter")
        register = page.get_by_role("button", name="on GitHub")
        assert "under your account" in register.inner_text()
        register.click()  # posts the manifest to GitHub, which sends the browser back
        page.wait_for_load_state()
        assert page.url.startswith(fake_github.url + "/apps/rapidvet/installations/new")
        assert page.locator("h1").inner_text() == "Install rapidvet"

        # GitHub installed it; olive comes back to the server, signs in and sees her App.
        fake_github.create_installation("acme")
        fake_github.create_repo("acme/handbook", files={"README.md": "# Handbook\n"})
        page.goto(server.url + "/")
        assert page.url == server.url + "/"
        assert page.get_by_text("Signed in as olive").is_visible()
        assert page.get_by_role("link", name="acme/handbook").is_visible()
        assert page.locator("h2#health-heading").is_visible()
        assert page.get_by_text("RAPID review is not a required check on main").is_visible()
        axe_check(page)
        keyboard_walk(page)
        screenshot(page, "configured")


def test_before_the_secret_key_the_page_says_how_to_make_one(
    fake_github, tmp_path, page: Page, axe_check, keyboard_walk, screenshot
):
    env = unconfigured_env(tmp_path, fake_github.url)
    env.pop("RAPIDVET_SECRET_KEY")
    with running_service(env, tmp_path) as server:
        page.goto(server.url + "/")
        assert page.get_by_role("heading", name="What the App asks for").is_visible()
        assert page.get_by_role("table", name="Permissions").is_visible()
        assert page.get_by_text("rapidvet secret-key", exact=True).is_visible()
        axe_check(page)
        keyboard_walk(page)
        screenshot(page, "secret key")


def test_sign_in_is_asked_for_and_refused_without_read_access(
    world,  # noqa: F811
    page: Page,
    axe_check,
    screenshot,
):
    world.fake.sign_in_as("mallory")
    page.goto(world.server.url + SECRET_PAGE)  # not signed in: through GitHub's sign-in first
    assert page.url == world.server.url + SECRET_PAGE
    assert page.locator("h1").inner_text() != "acme/secret"
    assert page.get_by_text("GitHub says mallory cannot read acme/secret").is_visible()
    axe_check(page)
    screenshot(page, "refused")

    world.fake.sign_in_as("dee")  # one who may read it, in a fresh session
    page.context.clear_cookies()
    page.goto(world.server.url + SECRET_PAGE)
    assert page.locator("h1").inner_text() == "acme/secret"


def role_states(page: Page) -> dict[str, str]:
    """Holder (as rapid.yml names it) → state, as the details page's role table shows."""
    states = {}
    rows = page.locator("section[aria-labelledby=roles-heading] tbody tr")
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        states[cells.nth(2).inner_text().strip()] = cells.nth(3).locator(".state").inner_text()
    return states


def test_the_details_page_follows_the_approvals_and_the_dashboard_shows_the_plan(
    fake_github, tmp_path, page: Page, axe_check, keyboard_walk, no_script_ran, screenshot
):
    with ExitStack() as stack:
        public = "https://rapidvet.example"  # where GitHub's Details links send people
        handbook = open_handbook(
            stack, fake_github, tmp_path, RAPIDVET_PAGES="public", RAPIDVET_PUBLIC_URL=public
        )
        assert handbook.send("pull_request.opened") == 202
        path = f"/{REPO}/pull/{handbook.number}"
        for name in ("RAPID review", "VPMOM structure"):
            assert handbook.check_run(name)["details_url"] == public + path

        page.goto(handbook.server.url + path)
        states = role_states(page)
        assert (states["LEADS"], states["DEE"]) == ("waiting", "waiting")
        lee = fake_github.add_review(REPO, handbook.number, "lee", "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=lee["id"])
        page.reload()
        states = role_states(page)
        assert (states["LEADS"], states["DEE"]) == ("approved", "waiting")
        assert page.locator("p.conclusion").inner_text().startswith("RAPID review: pending")

        dee = fake_github.add_review(REPO, handbook.number, "dee", "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=dee["id"])
        page.reload()
        assert role_states(page)["DEE"] == "approved"
        assert page.locator("p.conclusion").inner_text().startswith("RAPID review: success")
        timeline = page.locator("ol.timeline").inner_text()
        assert timeline.count("pull_request_review") >= 2, timeline
        no_script_ran(page)
        axe_check(page)
        screenshot(page, "pull-request", readme="pull-request.png")
        keyboard_walk(page)

        # The handbook's dashboard, snapshotted as the App is installed.
        assert handbook.send("installation.created") == 202
        page.goto(f"{handbook.server.url}/{REPO}")
        assert "FY27 Ops VPMOM" in page.locator("table.plans tbody").inner_text()
        axe_check(page)
        screenshot(page, "dashboard", readme="dashboard.png")
        keyboard_walk(page)


def test_the_dashboard_of_the_corpus_handbook(
    fake_github, tmp_path, corpus: Path, page: Page, axe_check, keyboard_walk, screenshot
):
    credentials = install_app(fake_github)
    fake_github.create_repo(REPO, folder=str(corpus / "handbook-head"))
    env = app_env(fake_github, credentials, tmp_path, RAPIDVET_PAGES="public")
    with running_service(env, tmp_path) as server:
        handbook = Handbook(fake_github, server)
        assert handbook.send("installation.created") == 202
        page.goto(f"{server.url}/{REPO}")
        assert page.locator("h1").inner_text() == REPO
        plans = page.locator("table.plans tbody").inner_text()
        for title in ("MLT Cadence V2MOM", "FY20 MLT VPMOM", "Content V2MOM"):  # as in the report
            assert title in plans
        assert page.locator("svg").first.is_visible()
        axe_check(page)
        screenshot(page, "dashboard")  # not a README image: the corpus stays outside the project
        keyboard_walk(page, max_presses=2000)

        page.get_by_role("link", name="Age").first.click()  # sorting is a plain link
        assert "sort=" in page.url
