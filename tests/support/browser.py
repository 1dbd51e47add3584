"""Real-browser test rig: Debian's Chromium driven by Playwright (pytest-playwright).

Playwright's own browser download cannot work on our machines, so `ensure_chromium()` installs
Debian's `chromium` with apt-get when it is missing and pytest-playwright launches that one
(`executable_path`). Enable with `pytest_plugins = ["tests.support.browser"]` in a conftest.

Fixtures (besides pytest-playwright's own `browser`, `context`, `new_context`, `page`):

- `page`: a fresh context per test, JavaScript on, the script sentinel armed; at teardown its
  last state is saved as `last.png` beside the test's other screenshots.
- `page_without_js`: the same with JavaScript disabled.
- `screenshot(page, name, *, readme=None, full_page=True) -> Path`: a PNG under
  `<basetemp>/test-output/screenshots/<test>/`; `readme="x.png"` also makes it `docs/images/x.png`
  when `RAPIDVET_README_IMAGES=1` (see tests/support/readme_images.py).
- `axe_check(page, *, ignore=()) -> list[dict]`: fails on any serious or critical axe-core
  violation, or on a form field without a label; returns the milder violations.
- `no_script_ran(page) -> None`: fails if a script injected into the page ran, or would have run
  but for the page's Content Security Policy; use `XSS_PAYLOADS` as the injected strings.
- `keyboard_walk(page, *, max_presses=None) -> list[str]`: tabs through the page and fails unless
  every focusable element is reached and shows a visible change when it has focus; returns the
  elements in tab order.
- `served(app)`: a context manager serving an aiohttp app on 127.0.0.1 in a thread.

CI installs the browser first: `python -m tests.support.browser`.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.readme_images import publish

if TYPE_CHECKING:
    from aiohttp import web
    from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Page

CHROMIUM = Path("/usr/bin/chromium")
# Another Chromium, for a machine without Debian's (never installed by the rig).
CHROMIUM_OVERRIDE = "RAPIDVET_CHROMIUM"
# Headless is Playwright's to add; the rest keep Chromium off this machine's closed network.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "rapidvet-chromium-install.lock"

# The strings tests inject into titles, RAPID lines, file names and reviewer names. Each calls
# alert(), which the sentinel records, if it ever runs.
XSS_PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "</textarea><script>alert(4)</script>",
    "javascript:alert(5)",
)


class BrowserUnavailable(RuntimeError):
    """apt-get is missing, so Debian's chromium cannot be installed (tests skip on this)."""


# --- Installing Debian's chromium --------------------------------------------------------------


def _installed_chromium() -> Path | None:
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else None


def _chromium_override() -> Path | None:
    chosen = os.environ.get(CHROMIUM_OVERRIDE)
    if not chosen:
        return None
    if not os.access(chosen, os.X_OK):
        raise RuntimeError(f"{CHROMIUM_OVERRIDE}={chosen} is not an executable")
    return Path(chosen)


def _apt_command() -> list[str]:
    if shutil.which("apt-get") is None:
        raise BrowserUnavailable(
            f"{CHROMIUM} is missing and apt-get is not available to install Debian's chromium"
            f" (or set {CHROMIUM_OVERRIDE} to a Chromium executable)"
        )
    if os.geteuid() == 0:
        return []
    # Not root: sudo without a password prompt, or a clear failure (not a skip).
    if shutil.which("sudo") is None:
        raise RuntimeError(f"{CHROMIUM} is missing: run `apt-get install -y chromium` as root")
    return ["sudo", "-n"]


def apt_get(*args: str) -> None:
    """Run apt-get (through sudo when not root), raising with its last lines on failure."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for another apt run (a colleague's, or unattended upgrades) instead of failing.
    command = [*_apt_command(), "apt-get", "-q", "-o", "DPkg::Lock::Timeout=600", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{tail}")


def ensure_chromium() -> Path:
    """Return Debian's chromium, installing it with apt-get (once) when it is missing.

    Safe from several pytest-xdist workers at once: a file lock serializes the install.
    RAPIDVET_CHROMIUM, when set, names the browser to use instead, and nothing is installed.
    """
    found = _chromium_override() or _installed_chromium()
    if found is not None:
        return found
    _apt_command()  # raise BrowserUnavailable before taking the lock
    with open(_INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _installed_chromium()
        if found is None:
            print(f"installing Debian's chromium for {CHROMIUM} ...", file=sys.stderr)
            apt_get("update")
            apt_get("install", "-y", "chromium")
            found = _installed_chromium()
    if found is None:
        raise RuntimeError(f"apt-get installed chromium, but {CHROMIUM} is still missing")
    return found


def chromium_version(executable: Path = CHROMIUM) -> str:
    """Return the version Chromium reports, e.g. '156.0.8078.79'."""
    # Debian's wrapper script prints a shell warning on stderr on some machines; ignore it.
    out = subprocess.run(
        [str(executable), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"\d+(?:\.\d+)+", out)
    if match is None:
        raise RuntimeError(f"no version in {executable} --version: {out!r}")
    return match.group(0)


# --- Serving a test page -----------------------------------------------------------------------


@contextmanager
def served(app: web.Application) -> Iterator[str]:
    """Serve an aiohttp app on 127.0.0.1 from a thread; yield its base URL.

    A thread, because Playwright's sync API refuses to run inside a running event loop.
    """
    from aiohttp import web

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="served-app", daemon=True)
    thread.start()
    runner = web.AppRunner(app)
    try:
        asyncio.run_coroutine_threadsafe(runner.setup(), loop).result(10)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        asyncio.run_coroutine_threadsafe(site.start(), loop).result(10)
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


# --- Screenshots -------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "page"


def save_screenshot(page: Page, path: Path, *, full_page: bool = True) -> Path:
    """Save a PNG of the page at path and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Animations off and no caret, so two runs of the same page give the same picture.
    page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
    return path


# --- Script sentinel ---------------------------------------------------------------------------

# Runs before any page script: records every alert/confirm/prompt/print call in window.__xss
# (without opening a dialog, so nothing blocks).
_SENTINEL_JS = """
(() => {
  const calls = [];
  Object.defineProperty(window, "__xss", { value: calls, writable: false });
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    window[name] = function (...args) {
      calls.push(`${name}(${args.map(String).join(", ")})`);
      return name === "confirm" ? false : name === "prompt" ? null : undefined;
    };
  }
})();
"""

# What injected markup leaves in the DOM even when it cannot run (JavaScript off, or a CSP):
# inline handlers, scripts and javascript: URLs that carry an alert() or the sentinel.
_INJECTED_MARKUP_JS = """
() => {
  const marker = /alert\\(|__xss/;
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const url = ["href", "src", "action", "formaction", "xlink:href"].includes(name);
      if ((name.startsWith("on") || (url && /^\\s*javascript:/i.test(attr.value)))
          && marker.test(attr.value)) {
        found.push(`<${el.localName} ${attr.name}="${attr.value}">`);
      }
    }
    if (el.localName === "script" && marker.test(el.textContent)) {
      found.push(`<script>${el.textContent.trim().slice(0, 80)}</script>`);
    }
  }
  return found;
}
"""


# Chromium's console line when a CSP stops a script (not a style or an image): "Executing
# inline script violates ..." in Chromium 156, "Refused to execute inline script ..." before.
_CSP_SCRIPT_REFUSAL = re.compile(
    r"^(Executing inline (script|event handler)|Running the JavaScript URL|Loading the script)"
    r".* violates .*Content Security Policy"
    r"|^Refused to (execute inline (script|event handler)|run the JavaScript URL|load the script)"
)


@dataclass
class ScriptSentinel:
    """What one browser context saw that only a running (or blocked) script explains."""

    dialogs: list[str] = field(default_factory=list)
    csp_refusals: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}({dialog.message})")
        dialog.dismiss()

    def on_console(self, message: ConsoleMessage) -> None:
        if _CSP_SCRIPT_REFUSAL.search(message.text):
            self.csp_refusals.append(message.text)


_WITHOUT_JS: weakref.WeakSet[BrowserContext] = weakref.WeakSet()
_SENTINELS: weakref.WeakKeyDictionary[BrowserContext, ScriptSentinel] = weakref.WeakKeyDictionary()


def arm_script_sentinel(context: BrowserContext) -> ScriptSentinel:
    """Install the sentinel on every page of the context; call before the first page loads."""
    if context in _SENTINELS:
        return _SENTINELS[context]
    sentinel = ScriptSentinel()
    context.add_init_script(_SENTINEL_JS)
    # A backstop for dialogs the wrapper cannot see (e.g. from a frame the init script missed).
    context.on("dialog", sentinel.on_dialog)
    context.on("console", sentinel.on_console)
    _SENTINELS[context] = sentinel
    return sentinel


def script_evidence(page: Page) -> list[str]:
    """Return every sign that an injected script ran, or sits in the DOM ready to run."""
    sentinel = _SENTINELS.get(page.context)
    if sentinel is None:
        raise RuntimeError(
            "the script sentinel is not armed: use the page fixture, or call"
            " arm_script_sentinel(context) before the page loads"
        )
    # onerror handlers fire before "load", so wait for it.
    page.wait_for_load_state("load")
    evidence: list[str] = []
    for frame in page.frames:  # an injected <iframe srcdoc> is a page of its own
        evidence += [f"script called {call}" for call in frame.evaluate("window.__xss ?? []")]
        markup = frame.evaluate(_INJECTED_MARKUP_JS)
        evidence += [f"unescaped markup in the DOM: {tag}" for tag in markup]
    evidence += [f"dialog opened: {dialog}" for dialog in sentinel.dialogs]
    evidence += [f"the page's CSP blocked a script: {text}" for text in sentinel.csp_refusals]
    return evidence


def assert_no_script_ran(page: Page) -> None:
    evidence = script_evidence(page)
    if evidence:
        lines = "\n".join(f"- {line}" for line in evidence)
        raise AssertionError(f"injected script on {page.url}:\n{lines}")


# --- Accessibility -----------------------------------------------------------------------------

SERIOUS = frozenset({"serious", "critical"})

# Form fields that need a label: text-like inputs, checkboxes, radios, selects and textareas.
# A <label> or aria-labelledby counts; a placeholder, title or aria-label alone does not.
_UNLABELLED_FIELDS_JS = """
() => {
  const fields = document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])"
    + ":not([type=image]), select, textarea");
  const text = (el) => (el?.textContent ?? "").trim();
  return [...fields].filter((f) => {
    if ([...(f.labels ?? [])].some((label) => text(label))) return false;
    const ids = (f.getAttribute("aria-labelledby") ?? "").split(/\\s+/).filter(Boolean);
    return !ids.some((id) => text(document.getElementById(id)));
  }).map((f) => f.outerHTML.slice(0, 160));
}
"""


def axe_violations(page: Page, *, ignore: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Return axe-core's violations on the page (all impacts), less the rule ids in ignore."""
    from axe_playwright_python.sync_playwright import Axe

    if page.context in _WITHOUT_JS:
        # axe.run() waits on timers, which never fire with JavaScript off: it would hang.
        raise RuntimeError("axe-core cannot run with JavaScript disabled: check the `page` fixture")
    skipped = set(ignore)
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [v for v in results.response["violations"] if v["id"] not in skipped]


def unlabelled_fields(page: Page) -> list[str]:
    """Return the markup of each form field that has no <label> or aria-labelledby text."""
    fields: list[str] = page.evaluate(_UNLABELLED_FIELDS_JS)
    return fields


def axe_report(violations: list[dict[str, Any]]) -> str:
    """Return violations as readable lines: rule, impact, help link, then each element."""
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f"\n  {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            lines.append(f"    at {target}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, ignore: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Fail on serious/critical axe violations or unlabelled fields; return the milder ones."""
    violations = axe_violations(page, ignore=ignore)
    serious = [v for v in violations if v["impact"] in SERIOUS]
    unlabelled = unlabelled_fields(page)
    problems: list[str] = []
    if serious:
        problems.append(f"{len(serious)} serious or critical axe-core violation(s):")
        problems.append(axe_report(serious))
    if unlabelled:
        problems.append("form field(s) without a <label> or aria-labelledby:")
        problems += [f"- {html}" for html in unlabelled]
    if problems:
        raise AssertionError(f"accessibility on {page.url}:\n" + "\n".join(problems))
    return [v for v in violations if v["impact"] not in SERIOUS]


# --- Keyboard ----------------------------------------------------------------------------------

# Tags every element that Tab should reach with data-keyboard-walk=<stop>; the radios of one
# group share a stop, as Tab visits only one of them. Returns [stop, description] pairs.
_TAB_STOPS_JS = """
() => {
  const selector = "a[href], area[href], button, input, select, textarea, iframe, summary,"
    + " audio[controls], video[controls], [contenteditable]:not([contenteditable=false]),"
    + " [tabindex]";
  const stops = new Map();
  let next = 0;
  for (const el of document.querySelectorAll("[data-keyboard-walk]")) {
    el.removeAttribute("data-keyboard-walk");
  }
  for (const el of document.querySelectorAll(selector)) {
    if (el.matches(":disabled, input[type=hidden]") || el.closest("[inert]")) continue;
    if (el.hasAttribute("tabindex") && el.tabIndex < 0) continue;
    if (el.localName === "summary" && el.parentElement?.querySelector(":scope > summary") !== el)
      continue;
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    const group = el.matches("input[type=radio][name]")
      ? `radio:${el.form?.id ?? ""}:${el.name}` : null;
    const stop = group && stops.has(group) ? stops.get(group).stop : String(next++);
    el.setAttribute("data-keyboard-walk", stop);
    if (!stops.has(group ?? stop)) stops.set(group ?? stop, { stop, element: el });
  }
  return [...stops.values()].map(({ stop, element }) => [stop, window.__describe(element)]);
}
"""

_DESCRIBE_JS = """
window.__describe = (el) => {
  if (!el || el === document.body || el === document.documentElement) return null;
  const id = el.id ? `#${el.id}` : el.name ? `[name=${el.name}]` : "";
  const text = (el.getAttribute("aria-label") || el.labels?.[0]?.textContent || el.textContent
    || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 40);
  return `<${el.localName}${id}>${text ? ` "${text}"` : ""}`;
};
"""

# The focused element's box, grown by 8px for an outline, clipped to the viewport.
_FOCUS_CLIP_JS = """
(el) => {
  const r = el.getBoundingClientRect();
  const x = Math.max(0, r.left - 8), y = Math.max(0, r.top - 8);
  const right = Math.min(innerWidth, r.right + 8), bottom = Math.min(innerHeight, r.bottom + 8);
  return { x, y, width: right - x, height: bottom - y };
}
"""


def _focused_stop(page: Page) -> tuple[str | None, str | None]:
    stop, described = page.evaluate(
        "() => { const el = document.activeElement;"
        " return [el?.getAttribute('data-keyboard-walk') ?? null, window.__describe(el)]; }"
    )
    return stop, described


def focus_is_visible(page: Page) -> bool:
    """Return whether the focused element looks different from the same element unfocused."""
    focused = page.evaluate_handle("document.activeElement")
    clip = focused.evaluate(_FOCUS_CLIP_JS)
    if clip["width"] < 1 or clip["height"] < 1:
        return False  # off screen: nobody can see it
    shot = {"clip": clip, "animations": "disabled", "caret": "hide"}
    with_focus = page.screenshot(**shot)
    focused.evaluate("(el) => el.blur()")
    without_focus = page.screenshot(**shot)
    focused.evaluate("(el) => el.focus()")  # Tab goes on from here
    return with_focus != without_focus


def walk_keyboard(page: Page, *, max_presses: int | None = None) -> list[str]:
    """Tab through the page; fail unless every tab stop is reached and shows visible focus.

    Returns the elements in the order Tab reached them.
    """
    page.evaluate(_DESCRIBE_JS)
    stops = dict(page.evaluate(_TAB_STOPS_JS))
    page.evaluate("() => document.activeElement?.blur()")
    order: list[str] = []
    visited: list[str] = []
    problems: list[str] = []
    outside = 0
    for _ in range(max_presses or 2 * len(stops) + 10):
        page.keyboard.press("Tab")
        stop, described = _focused_stop(page)
        if described is None:  # focus left the document: the next Tab wraps round
            outside += 1
            if outside > 1:
                break
            continue
        outside = 0
        key = stop or described  # e.g. a scroll container that Chromium makes focusable
        if key in visited:
            if key != visited[0] and key == visited[-1]:
                problems.append(f"- Tab stays on {described} (a focus trap)")
            break  # back at the first element: the walk is complete
        visited.append(key)
        order.append(described)
        if not focus_is_visible(page):
            problems.append(f"- focus not visible on: {described}")
    problems += [f"- never reached by Tab: {d}" for s, d in stops.items() if s not in visited]
    if problems:
        raise AssertionError(f"keyboard walk on {page.url}:\n" + "\n".join(problems))
    return order


# --- Ordering ----------------------------------------------------------------------------------

# Fixtures that start Playwright's sync API, which leaves its event loop running in the main
# thread for the rest of the session: asyncio.run() fails in every later test of that process.
_PLAYWRIGHT_FIXTURES = frozenset({"playwright", "browser", "context", "new_context", "page"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last. pytest-xdist hands each worker its tests in collection
    order, so on every worker they also come after all of that worker's other tests."""
    items.sort(key=lambda item: bool(_PLAYWRIGHT_FIXTURES & set(getattr(item, "fixturenames", ()))))


# --- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    try:
        return ensure_chromium()
    except BrowserUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_name: str, chromium_executable: Path
) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's chromium."""
    if browser_name != "chromium":
        pytest.skip(f"only Debian's chromium is installed here, not {browser_name}")
    return {
        "headless": True,
        **browser_type_launch_args,
        "executable_path": str(chromium_executable),
        "args": [*CHROMIUM_FLAGS, *browser_type_launch_args.get("args", [])],
    }


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "test-output" / "screenshots"


@pytest.fixture
def screenshots_of_test(screenshot_dir: Path, request: pytest.FixtureRequest) -> Path:
    """This test's own screenshot folder, named after its node id."""
    return screenshot_dir / _slug(request.node.nodeid.removeprefix("tests/"))


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    arm_script_sentinel(context)
    return context


@pytest.fixture
def page(context: BrowserContext, screenshots_of_test: Path) -> Iterator[Page]:
    from playwright.sync_api import Error

    page = context.new_page()
    yield page
    # Every browser test leaves a picture of where it ended, passed or failed; a page that
    # cannot be pictured any more (a crash) is the test's own failure to report, not this one.
    if not page.is_closed() and page.url != "about:blank":
        with suppress(Error):
            save_screenshot(page, screenshots_of_test / "last.png")


@pytest.fixture
def page_without_js(new_context: Callable[..., BrowserContext]) -> Page:
    context = new_context(java_script_enabled=False)
    _WITHOUT_JS.add(context)
    arm_script_sentinel(context)
    return context.new_page()


@pytest.fixture
def screenshot(screenshots_of_test: Path, request: pytest.FixtureRequest) -> Callable[..., Path]:
    def take(page: Page, name: str, *, readme: str | None = None, full_page: bool = True) -> Path:
        path = save_screenshot(
            page, screenshots_of_test / f"{_slug(name)}.png", full_page=full_page
        )
        print(f"screenshot {name}: {path}")
        request.node.user_properties.append(("screenshot", str(path)))
        if readme is not None:
            publish(path, readme)
        return path

    return take


@pytest.fixture
def axe_check() -> Callable[..., list[dict[str, Any]]]:
    return assert_accessible


@pytest.fixture
def no_script_ran() -> Callable[[Page], None]:
    return assert_no_script_ran


@pytest.fixture
def keyboard_walk() -> Callable[..., list[str]]:
    return walk_keyboard


if __name__ == "__main__":
    # CI step: install the browser up front, so its time shows on its own line.
    try:
        executable = ensure_chromium()
    except BrowserUnavailable as error:
        # The same as the fixtures: the browser tests will skip, saying why.
        print(f"browser tests will skip: {error}", file=sys.stderr)
        sys.exit(0)
    print(f"{executable}: Chromium {chromium_version(executable)}")
