"""The browser rig (tests/support/browser.py) proven on tiny pages served from this test: each check
passes a good page and catches a bad one."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page

from tests.support import readme_images
from tests.support.browser import (
    XSS_PAYLOADS,
    axe_violations,
    chromium_version,
    served,
    unlabelled_fields,
)


def _page(title: str, body: str, head: str = "") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><main><h1>{title}</h1>{body}</main></body></html>"
    )


XSS_INNER = "<p>inner</p><script>alert(6)</script>"
ESCAPED = "".join(f"<li>{html.escape(p)}</li>" for p in XSS_PAYLOADS)
PAGES = {
    "/labelled": _page(
        "Labelled form",
        '<form><label for="title">Plan title</label><input id="title" name="title">'
        '<label>Reviewer <select name="who"><option>@dee</option></select></label>'
        "<fieldset><legend>Decision</legend>"
        '<label><input type="radio" name="d" value="yes"> Agree</label>'
        '<label><input type="radio" name="d" value="no"> Disagree</label></fieldset>'
        '<button type="submit">Save</button></form><p><a href="/escaped">Escaped page</a></p>',
    ),
    "/unlabelled": _page(
        "Unlabelled form",
        # axe-core takes a placeholder for a label; our own check does not.
        '<form><input name="title"><input name="q" placeholder="Search">'
        "<button>Save</button></form>",
    ),
    # What a correct template makes of the payloads: text, in the body and in attributes.
    "/escaped": _page(
        html.escape(XSS_PAYLOADS[0]),
        f'<ul>{ESCAPED}</ul><a href="/f?name={html.escape(XSS_PAYLOADS[1])}"'
        f' title="{html.escape(XSS_PAYLOADS[1])}">file</a>',
    ),
    # What a template without escaping makes of them.
    "/unescaped": _page("Unescaped", "".join(f"<p>{p}</p>" for p in XSS_PAYLOADS[:3])),
    # The same behind a CSP that forbids inline script: nothing runs, but it is still a bug.
    "/blocked-by-csp": _page("Blocked", f'<p style="color: red">{XSS_PAYLOADS[0]}</p>'),
    "/javascript": _page(
        "Script",
        '<p id="out">server text</p>'
        "<script>document.getElementById('out').textContent = 'script text';</script>",
    ),
    "/no-focus-ring": _page(
        "No focus ring",
        '<p><a href="/labelled">Plain link</a></p><p><a class="bare" href="/escaped">Bare</a></p>',
        "<style>a.bare:focus { outline: none; }</style>",
    ),
    "/focus-trap": _page(
        "Focus trap",
        '<p><a href="/labelled">Reachable</a></p>'
        '<p><a href="/escaped" tabindex="-1">Mouse only</a></p>'
        '<p><input id="trap" aria-label="Stuck"></p><p><a href="/unescaped">After</a></p>'
        "<script>document.getElementById('trap').addEventListener('keydown', (e) => {"
        " if (e.key === 'Tab') e.preventDefault(); });</script>",
    ),
    # An injected script inside a frame still counts.
    "/framed": _page(
        "Framed", f'<iframe title="inner" srcdoc="{html.escape(XSS_INNER)}"></iframe>'
    ),
}


async def _handle(request: web.Request) -> web.Response:
    body = PAGES.get(request.path)
    if body is None:
        raise web.HTTPNotFound()
    headers = {}
    if request.path == "/blocked-by-csp":
        # style-src too: a refused style is not a script, and must not count as one.
        headers["Content-Security-Policy"] = "script-src 'none'; style-src 'none'"
    return web.Response(text=body, content_type="text/html", headers=headers)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    app = web.Application()
    app.router.add_get("/{tail:.*}", _handle)
    with served(app) as url:
        yield url


def test_launches_debian_chromium(browser: Browser, chromium_executable: Path) -> None:
    assert browser.version == chromium_version(chromium_executable)


def test_screenshot_is_a_png(page: Page, site: str, screenshot, tmp_path, monkeypatch) -> None:
    page.goto(f"{site}/labelled")
    path = screenshot(page, "labelled form")
    assert path.name == "labelled-form.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "test-output/screenshots" in path.as_posix()

    # README images are copies of screenshots, made only when the flag is set.
    images = tmp_path / "images"
    monkeypatch.setattr(readme_images, "IMAGES", images)
    monkeypatch.delenv(readme_images.FLAG, raising=False)
    screenshot(page, "labelled", readme="labelled-form.png")
    assert not images.exists()
    monkeypatch.setenv(readme_images.FLAG, "1")
    screenshot(page, "labelled", readme="labelled-form.png")
    assert (images / "labelled-form.png").read_bytes() == path.read_bytes()
    with pytest.raises(ValueError, match="must look like"):
        screenshot(page, "labelled", readme="../escape.png")


def test_axe_passes_a_labelled_form(page: Page, site: str, axe_check) -> None:
    page.goto(f"{site}/labelled")
    axe_check(page)


def test_axe_flags_an_unlabelled_field(page: Page, site: str, axe_check) -> None:
    page.goto(f"{site}/unlabelled")
    flagged = {v["id"]: v["impact"] for v in axe_violations(page)}
    assert flagged.get("label") == "critical"
    assert [v["nodes"][0]["html"] for v in axe_violations(page)] == ['<input name="title">']
    assert unlabelled_fields(page) == [
        '<input name="title">',
        '<input name="q" placeholder="Search">',
    ]
    with pytest.raises(AssertionError) as failure:
        axe_check(page)
    report = str(failure.value)
    assert "label (critical): Form elements must have labels" in report
    assert 'at input[name="title"]' in report
    assert "without a <label>" in report


def test_escaped_payloads_run_no_script(page: Page, site: str, no_script_ran, screenshot) -> None:
    page.goto(f"{site}/escaped")
    no_script_ran(page)
    # Shown as text, so a person sees exactly what was typed.
    assert page.locator("li").all_inner_texts() == list(XSS_PAYLOADS)
    assert page.title() == XSS_PAYLOADS[0]
    screenshot(page, "escaped")


def test_sentinel_catches_a_script_that_runs(page: Page, site: str, no_script_ran) -> None:
    page.goto(f"{site}/unescaped")
    with pytest.raises(AssertionError) as failure:
        no_script_ran(page)
    report = str(failure.value)
    for call in ("alert(1)", "alert(2)", "alert(3)"):
        assert f"script called {call}" in report
    assert 'unescaped markup in the DOM: <img onerror="alert(2)">' in report


def test_sentinel_catches_a_script_the_csp_blocked(page: Page, site: str, no_script_ran) -> None:
    page.goto(f"{site}/blocked-by-csp")
    with pytest.raises(AssertionError) as failure:
        no_script_ran(page)
    report = str(failure.value)
    assert "script called" not in report
    assert "the page's CSP blocked a script: Executing inline script violates" in report
    assert "unescaped markup in the DOM: <script>alert(1)</script>" in report
    assert "style" not in report


def test_sentinel_catches_unescaped_markup_with_javascript_off(
    page_without_js: Page, site: str, no_script_ran
) -> None:
    page_without_js.goto(f"{site}/unescaped")
    with pytest.raises(AssertionError, match="unescaped markup in the DOM") as failure:
        no_script_ran(page_without_js)
    assert "script called" not in str(failure.value)


def test_sentinel_catches_a_script_in_a_frame(page: Page, site: str, no_script_ran) -> None:
    page.goto(f"{site}/framed")
    with pytest.raises(AssertionError, match=r"script called alert\(6\)"):
        no_script_ran(page)


def test_javascript_disabled_context_renders(
    page_without_js: Page, page: Page, site: str, screenshot, axe_check, keyboard_walk
) -> None:
    page_without_js.goto(f"{site}/javascript")
    assert page_without_js.locator("#out").inner_text() == "server text"
    screenshot(page_without_js, "without javascript")
    page_without_js.goto(f"{site}/labelled")
    assert len(keyboard_walk(page_without_js)) == 5
    with pytest.raises(RuntimeError, match="cannot run with JavaScript disabled"):
        axe_check(page_without_js)

    page.goto(f"{site}/javascript")  # the default page runs scripts
    assert page.locator("#out").inner_text() == "script text"


def test_keyboard_walk_reaches_every_control(page: Page, site: str, keyboard_walk) -> None:
    page.goto(f"{site}/labelled")
    order = keyboard_walk(page)
    # One stop for the radio group, as Tab visits one radio of it.
    assert order == [
        '<input#title> "Plan title"',
        '<select[name=who]> "Reviewer @dee"',
        '<input[name=d]> "Agree"',
        '<button> "Save"',
        '<a> "Escaped page"',
    ]
    # Usable by keyboard alone: Tab to the link, open it with Enter.
    page.reload()
    for _ in order:
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/escaped")


def test_keyboard_walk_flags_an_invisible_focus(page: Page, site: str, keyboard_walk) -> None:
    page.goto(f"{site}/no-focus-ring")
    with pytest.raises(AssertionError) as failure:
        keyboard_walk(page)
    assert str(failure.value).splitlines()[1:] == ['- focus not visible on: <a> "Bare"']


def test_keyboard_walk_flags_a_focus_trap(page: Page, site: str, keyboard_walk) -> None:
    page.goto(f"{site}/focus-trap")
    with pytest.raises(AssertionError) as failure:
        keyboard_walk(page)
    # The tabindex=-1 link is mouse-only by design, so it is not reported as missed.
    assert str(failure.value).splitlines()[1:] == [
        '- Tab stays on <input#trap> "Stuck" (a focus trap)',
        '- never reached by Tab: <a> "After"',
    ]
