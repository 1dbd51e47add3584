"""A browser for page tests, without the browser: keeps cookies, follows redirects (a POST
answered 302 or 303 goes on as a GET, as browsers do) and reads the forms of a page.

Also the steps every page test starts with: a server with no App (its set-up code set by the
environment), giving the set-up code, and registering the App through the manifest flow
against the fake GitHub.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from cryptography.fernet import Fernet

from tests.support.service import Server, service_env

APP_SETTINGS = ("RAPIDVET_APP_ID", "RAPIDVET_PRIVATE_KEY", "RAPIDVET_WEBHOOK_SECRET")
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")
SETUP_CODE = "test-set-up-code-of-the-environment"
LOGGED_CODE = re.compile(r"set-up code: ([A-Z0-9-]{23})")


@dataclass
class Page:
    status: int
    url: str  # where the redirects ended
    headers: Any
    text: str

    def forms(self) -> list[Form]:
        parser = _FormParser(self.url)
        parser.feed(self.text)
        return parser.forms

    def form(self, action_part: str) -> Form:
        (found,) = [f for f in self.forms() if action_part in f.action]
        return found


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urljoin(self.base, values.get("action", ""))
            self.forms.append(Form(action, values.get("method", "get").lower()))
        elif tag == "input" and self.forms and "name" in values:
            self.forms[-1].fields[values["name"]] = values.get("value", "")


class _LoopbackIsSecure(DefaultCookiePolicy):
    """Browsers count http://127.0.0.1 as a secure context and send it `Secure` cookies; so
    does this one."""

    def return_ok_secure(self, cookie: Cookie, request: urllib.request.Request) -> bool:
        loopback = urlsplit(request.full_url).hostname in ("127.0.0.1", "localhost")
        return loopback or bool(super().return_ok_secure(cookie, request))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


class Browser:
    def __init__(self, *, follow: bool = True, headers: dict[str, str] | None = None) -> None:
        """`headers` go with every request, as a proxy in front of the server adds them."""
        self.follow = follow
        self.cookies = CookieJar(_LoopbackIsSecure())
        cookies = urllib.request.HTTPCookieProcessor(self.cookies)
        self.following = urllib.request.build_opener(cookies)
        self.staying = urllib.request.build_opener(cookies, _NoRedirects())
        for opener in (self.following, self.staying):
            opener.addheaders += list((headers or {}).items())

    def get(
        self, url: str, *, follow: bool | None = None, headers: dict[str, str] | None = None
    ) -> Page:
        """The page at `url`; a redirect itself when not following them. `headers` go with this
        request only, and may replace the Host header (which the opener's headers cannot)."""
        request = urllib.request.Request(url, headers=headers or {})
        return self._open(request, self.follow if follow is None else follow)

    def post(self, url: str, fields: dict[str, str]) -> Page:
        return self._open(urllib.request.Request(url, data=urlencode(fields).encode()), self.follow)

    def submit(self, form: Form, **changes: str) -> Page:
        fields = {**form.fields, **changes}
        if form.method == "post":
            return self.post(form.action, fields)
        separator = "&" if "?" in form.action else "?"
        return self.get(form.action + separator + urlencode(fields))

    def _open(self, request: urllib.request.Request, follow: bool) -> Page:
        opener = self.following if follow else self.staying
        try:
            with opener.open(request, timeout=30) as answer:
                return Page(answer.status, answer.url, answer.headers, answer.read().decode())
        except urllib.error.HTTPError as error:
            return Page(error.code, error.url, error.headers, error.read().decode())


def unconfigured_env(tmp: Path, github_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server with no App settings, but a secret key to store them with."""
    env = service_env(
        tmp,
        github_url,
        RAPIDVET_SECRET_KEY=Fernet.generate_key().decode(),
        RAPIDVET_SETUP_TOKEN=SETUP_CODE,
    )
    for name in APP_SETTINGS:
        env.pop(name)
    env.update(extra)
    return env


def manifest_of(page: Page) -> dict[str, Any]:
    return dict(json.loads(page.form("/apps/new").fields["manifest"]))


def logged_setup_code(server: Server) -> str:
    """The set-up code a server made and printed in its log."""
    found = LOGGED_CODE.search(server.logs())
    assert found, server.logs()
    return found.group(1)


def give_setup_code(browser: Browser, server_url: str, code: str = SETUP_CODE) -> Page:
    """Send the set-up code through the form `/` asks for it with: the page it ends on."""
    asking = browser.get(server_url + "/")
    return browser.submit(asking.form("/setup/code"), code=code)


def register_app(browser: Browser, server_url: str, code: str = SETUP_CODE) -> Page:
    """Give the set-up code and register the App through the set-up page's manifest form: the
    page it ends on."""
    setup = give_setup_code(browser, server_url, code)
    assert setup.status == 200, setup.text
    return browser.submit(setup.form("/apps/new"))
