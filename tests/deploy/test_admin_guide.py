"""Every command of the admin guide (docs/) runs, page after page, and succeeds.

What a fenced block's info string says:

- ```sh tested: run. A page's tested blocks run in one bash (`set -euo pipefail`), one after
  the other, as typed into one terminal: variables, the current directory and background jobs
  (`rapidvet serve ... &`, `kill %1`) carry over. The first block that fails fails the test,
  which shows the block, its output and the logs the page's commands wrote.
- ```sh settings: the reader's own values, `export NAME=value` lines. Not run: the test
  provides each variable they name, and a page gets only those its settings blocks name.
- ```sh server: commands that only make sense on a real server (systemctl, files under /etc).
  Not run, and kept few. Never an install: every `pip install` of the guide is a tested block
  that installs `$PACKAGE`, the wheel this checkout builds.
- ```yaml rapid.yml: must pass `rapidvet config validate`.

Any other shell block fails the test: each says which of these it is.

The pages run in the order the index (docs/admin-guide.md) links them, as one admin on one
host: one HOME (a temp dir with a git identity), so that `~/rapidvet/.env` written by the
set-up is there for the later pages. Each page starts in HOME with LANG = C.UTF-8, no
RAPIDVET_* variable but those its settings name, and PATH = the virtualenv the set-up page
installs rapidvet into (~/rapidvet/venv/bin, as an admin's ~/.profile would have it), then a
`sudo` that runs its command as the test's user (so that the test needs no root, and the
service's virtualenv goes in the temp dir), then the system's PATH without this test's
virtualenv: every `rapidvet` the guide runs is the one it installed; pip gets this host's
PIP_* variables, its index. These are the values for the variables the settings blocks may
name:

- PORT: a free port on 127.0.0.1, the same for every page (a page's background processes are
  stopped before the next page starts).
- RAPIDVET_PUBLIC_URL: http://127.0.0.1:$PORT, the App's webhook address on the fake GitHub.
- RAPIDVET_GITHUB_URL: the fake GitHub (tests/fake_github) on 127.0.0.1.
- APP_ID, APP_KEY_FILE, WEBHOOK_SECRET, CLIENT_ID, CLIENT_SECRET: an App registered on the
  fake (its key in a .pem file under ~/Downloads), installed on the acme organization, whose
  acme/handbook repository has a pull request open. The fake has no use for the client
  secret: a placeholder.
- HANDBOOK: ~/src/handbook, a clone of examples/handbook without its rapid.yml, whose origin
  is a bare repository in the temp dir.
- RAPIDVET_DATABASE_URL: a fresh PostgreSQL database (tests/support/postgres.py). Without a
  server the pages that name it are left out and the test is reported as skipped after the
  others ran.
- PACKAGE: the wheel `python -m build` makes of this checkout (tests/deploy/test_release.py's build,
  shared with it in one session); pip takes its dependencies from the package index.
- SERVICE_VENV: a folder in the temp dir, standing for /opt/rapidvet.

The world also moves between pages: before monitoring.md, a pull request event is delivered
while rapidvet is down; after that page's commands, with its rapidvet still running, GitHub
must have sent the event again (its `rapidvet reconcile`) and the App answered with both checks.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rapidvet.app.cli import main
from tests.app.jobs.test_reconcile import free_port, open_pull, wait_for
from tests.deploy.test_release import build, made_once
from tests.support import ROOT
from tests.support.e2e import FILES, PLAN, REPO, create_handbook, install_app

pytest_plugins = ("tests.support.postgres",)

DOCS = ROOT / "docs"
INDEX = DOCS / "admin-guide.md"
BIN = Path(sys.executable).parent
SHELLS = {"sh", "bash", "shell", "console"}
KINDS = {"tested", "settings", "server"}
MAX_SERVER_BLOCKS = 8  # "should be few": a guide that cannot be run is a guide that rots
DEVELOPERS = {"development.md", "architecture.md"}  # for working on rapidvet, not its admins
GUIDE_VENV = Path("rapidvet") / "venv" / "bin"  # under HOME: where the set-up installs rapidvet
# `sudo CMD...` as the test's user: the guide's root-owned install, without root.
SUDO = '#!/bin/sh\nexec "$@"\n'
PIP_INSTALL = re.compile(r"\bpip3? install\b")
# rapidvet from the package index, where it is not published: a stranger could publish it.
FROM_THE_INDEX = re.compile(r"\bpip3? install (?:-[-\w]+ )*rapidvet(?![-\w./])")
PAGE_SECONDS = 300
MARK = "@@guide-block"
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<language>[^\s`]*)\s*(?P<info>[^`]*?)\s*$")
EXPORT = re.compile(r"^export (?P<name>[A-Za-z_][A-Za-z0-9_]*)=\S")
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
ARCHITECTURE_POINTER = re.compile(r"docs/architecture\.md#(?P<anchor>[\w-]+)")


# -- Reading the guide ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence, 1-based
    language: str
    info: str
    text: str

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def closes(fence: str, line: str) -> bool:
    """Whether `line` closes a block opened by `fence`: the same character, as many or more."""
    mark = line.strip()
    return len(mark) >= len(fence) and set(mark) == {fence[0]}


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, number = [], 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        number += 1
        if opening is None:
            continue
        fence, start, body = opening["fence"], number, []
        while number < len(lines) and not closes(fence, lines[number]):
            body.append(lines[number])
            number += 1
        number += 1  # the closing fence
        found.append(Block(path.name, start, opening["language"], opening["info"], "\n".join(body)))
    return found


def pages() -> list[str]:
    """The pages the index links, in the order it first links them."""
    linked = [m["target"].partition("#")[0] for m in LINK.finditer(INDEX.read_text())]
    return list(dict.fromkeys(t for t in linked if t.endswith(".md") and "/" not in t))


def shell_blocks(page: str, kind: str) -> list[Block]:
    return [b for b in blocks(DOCS / page) if b.language in SHELLS and b.info == kind]


def settings_names(page: str) -> list[str]:
    names = []
    for block in shell_blocks(page, "settings"):
        for line in block.text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found = EXPORT.match(line)
                assert found, f"{block.where}: settings hold `export NAME=value` lines: {line!r}"
                names.append(found["name"])
    return names


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings (a `# comment` in a fenced block is no heading)."""
    inside: set[int] = set()
    for block in blocks(path):
        inside |= set(range(block.line, block.line + block.text.count("\n") + 3))
    return {
        slug(line.lstrip("#").replace("`", ""))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.startswith("#") and number not in inside
    }


# -- The guide's shape, without running it ----------------------------------------------------


def test_the_index_links_every_page_of_the_guide():
    assert pages(), "docs/admin-guide.md links no page"
    assert set(pages()) == {p.name for p in DOCS.glob("*.md")} - {INDEX.name, *DEVELOPERS}


def test_every_shell_block_says_whether_it_is_run():
    shells = [b for page in [INDEX.name, *pages()] for b in blocks(DOCS / page)]
    unmarked = [b.where for b in shells if b.language in SHELLS and b.info not in KINDS]
    assert unmarked == [], f"mark these ```sh tested, settings or server: {unmarked}"
    servers = [b for b in shells if b.language in SHELLS and b.info == "server"]
    assert len(servers) <= MAX_SERVER_BLOCKS, [b.where for b in servers]
    tested = [b for b in shells if b.language in SHELLS and b.info == "tested"]
    assert len(tested) > 2 * len(servers)


def test_every_install_is_run_and_installs_what_this_repository_builds():
    shells = [b for page in [INDEX.name, *pages()] for b in blocks(DOCS / page)]
    installs = [
        (b, line)
        for b in shells
        if b.language in SHELLS
        for line in b.text.splitlines()
        if PIP_INSTALL.search(line)
    ]
    assert installs, "the guide installs rapidvet nowhere"
    not_run = [b.where for b, _ in installs if b.info != "tested"]
    assert not_run == [], f"these install blocks must be ```sh tested: {not_run}"
    elsewhere = [b.where for b, line in installs if '"$PACKAGE"' not in line]
    assert elsewhere == [], f"these install something other than $PACKAGE: {elsewhere}"


def test_nothing_installs_rapidvet_from_the_package_index():
    texts = [ROOT / "README.md", *DOCS.glob("*.md"), *(p for p in ROOT.glob("deploy/**/*"))]
    found = [
        f"{path.relative_to(ROOT)}: {hit.group(0)}"
        for path in texts
        if path.is_file()
        for hit in FROM_THE_INDEX.finditer(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == []


def test_the_settings_are_variables_the_test_provides():
    for page in pages():
        unknown = set(settings_names(page)) - set(PROVIDERS)
        assert unknown == set(), f"docs/{page} asks for {unknown}: add them to PROVIDERS"


def test_every_rapid_yml_of_the_guide_is_valid(tmp_path):
    examples = [b for page in pages() for b in blocks(DOCS / page) if b.info == "rapid.yml"]
    assert examples
    for block in examples:
        file = tmp_path / "rapid.yml"
        file.write_text(block.text + "\n")
        assert main(["config", "validate", str(file)]) == 0, block.where


def broken_links(path: Path) -> list[str]:
    """The links of a page to a file or heading that is not there."""
    broken = []
    for found in LINK.finditer(path.read_text(encoding="utf-8")):
        target = found["target"]
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists() or (anchor and anchor not in anchors(linked)):
            broken.append(f"{path.name}: {target}")
    return broken


def test_every_link_of_the_guide_leads_somewhere():
    assert [
        b for path in [INDEX, *(DOCS / page for page in pages())] for b in broken_links(path)
    ] == []


def test_every_pointer_into_the_architecture_page_lands_on_a_heading():
    """Docstrings point to the sections of docs/architecture.md holding the facts they rely on."""
    sources = [ROOT / "README.md", ROOT / "pyproject.toml"] + [
        path
        for folder in ("app", "checks", "workflows", "tests", "bench", "docs")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".md")
    ]
    pointers = {
        (str(path.relative_to(ROOT)), found["anchor"])
        for path in sources
        for found in ARCHITECTURE_POINTER.finditer(path.read_text(encoding="utf-8"))
    }
    assert len(pointers) > 10  # the docstrings' pointers are found
    headings = anchors(DOCS / "architecture.md")
    assert sorted(p for p in pointers if p[1] not in headings) == []
    assert broken_links(DOCS / "architecture.md") == []


# -- Running it -------------------------------------------------------------------------------


@dataclass
class Guide:
    """The host, the fake GitHub with the App on it, and what the pages left behind."""

    request: pytest.FixtureRequest
    tmp: Path
    home: Path
    fake: Any
    port: int
    app_id: int
    key_file: Path
    webhook_secret: str
    number: int  # the open pull request
    wheel: Path  # this checkout's, as its release builds it
    missed: list[str] = field(default_factory=list)  # deliveries that found rapidvet down


PROVIDERS: dict[str, Callable[[Guide], str]] = {
    "PORT": lambda g: str(g.port),
    "RAPIDVET_PUBLIC_URL": lambda g: f"http://127.0.0.1:{g.port}",
    "RAPIDVET_GITHUB_URL": lambda g: str(g.fake.url),
    "APP_ID": lambda g: str(g.app_id),
    "APP_KEY_FILE": lambda g: str(g.key_file),
    "WEBHOOK_SECRET": lambda g: g.webhook_secret,
    "CLIENT_ID": lambda g: f"Iv1.{g.app_id:016x}",  # the fake's client id for an App
    "CLIENT_SECRET": lambda g: "unused-by-the-test",
    "HANDBOOK": lambda g: str(g.home / "src" / "handbook"),
    "RAPIDVET_DATABASE_URL": lambda g: str(g.request.getfixturevalue("postgres_url")),
    "PACKAGE": lambda g: str(g.wheel),
    "SERVICE_VENV": lambda g: str(g.tmp / "opt" / "rapidvet"),
}


def make_home(home: Path, origin: Path) -> None:
    """The admin's home: a git identity and a checkout of the handbook with an origin."""
    (home / "Downloads").mkdir(parents=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Handbook Owner\n\temail = owner@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    seed = origin.parent / "seed"
    shutil.copytree(ROOT / "examples" / "handbook", seed)
    (seed / ".github" / "rapid.yml").unlink()  # the guide writes one

    def git(*args: str) -> None:
        env = {**os.environ, "HOME": str(home)}  # the identity above
        subprocess.run(["git", *args], cwd=seed, env=env, check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "The handbook")
    git("clone", "-q", "--bare", str(seed), str(origin))
    git("clone", "-q", str(origin), str(home / "src" / "handbook"))


@pytest.fixture
def guide(request, fake_github, tmp_path, tmp_path_factory) -> Guide:
    (wheel,) = (made_once(tmp_path_factory, "release", build) / "dist").glob("*.whl")
    install_app(fake_github)  # the installation on acme and its team
    port = free_port()
    secret = secrets.token_hex(32)
    # Registered again with its webhook address and secret, as the by-hand steps do.
    credentials = fake_github.setup_app(
        webhook_url=f"http://127.0.0.1:{port}/webhooks", webhook_secret=secret
    )
    create_handbook(fake_github, REPO, FILES)
    number = open_pull(fake_github, "plan-update", PLAN.replace("once a year", "twice a year"))
    home = tmp_path / "home"
    make_home(home, tmp_path / "origin" / "handbook.git")
    key_file = home / "Downloads" / "rapidvet.private-key.pem"  # as GitHub's download
    key_file.write_text(credentials.private_key)
    return Guide(
        request,
        tmp_path,
        home,
        fake_github,
        port,
        credentials.app_id,
        key_file,
        secret,
        number,
        wheel,
    )


def deliver_while_down(guide: Guide) -> None:
    sent = guide.fake.send_webhook("pull_request.opened", repo=REPO, number=guide.number)
    assert sent["status_code"] == 0, sent  # nothing listens between pages
    guide.missed.append(sent["guid"])


def evaluated_after_reconcile(guide: Guide) -> None:
    fake = guide.fake

    def answered() -> bool:
        return any(
            d["redelivery"] and d["guid"] in guide.missed and d["status_code"] == 202
            for d in fake.deliveries()
        )

    wait_for(answered, "redelivery of the missed event answered 202", timeout=60)
    head = fake.pull_request(REPO, guide.number)["head"]["sha"]
    wanted = {"VPMOM structure", "RAPID review"}
    wait_for(
        lambda: wanted <= {r["name"] for r in fake.check_runs(REPO, head_sha=head)},
        "both check runs on the pull request",
        timeout=60,
    )


BEFORE: dict[str, Callable[[Guide], None]] = {"monitoring.md": deliver_while_down}
AFTER: dict[str, Callable[[Guide], None]] = {"monitoring.md": evaluated_after_reconcile}


def script(tested: list[Block]) -> str:
    lines = ["set -euo pipefail"]
    for number, block in enumerate(tested):
        lines += [f"printf '\\n{MARK} {number}\\n'", block.text]
    lines.append(f"printf '\\n{MARK} end\\n'")
    return "\n".join(lines) + "\n"


def alive(group: int) -> bool:
    """Whether a process of `group` still runs (zombies do not count: whoever reaps them)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def stop(group: int) -> None:
    """SIGTERM what the page left running (`rapidvet serve &`), SIGKILL what outlives 20 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while alive(group) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not alive(group):
            return


def logs(home: Path) -> str:
    return "".join(
        f"\n--- {log.relative_to(home)} (end) ---\n{log.read_text(errors='replace')[-3000:]}"
        for log in sorted(home.rglob("*.log"))
    )


def failure(page: str, tested: list[Block], output: str, home: Path, why: str) -> str:
    """Which block failed, its text, its output and the logs."""
    parts = re.split(rf"\n{MARK} (\d+|end)\n", "\n" + output)
    started = [int(mark) for mark in parts[1::2] if mark != "end"]
    if not started:
        return f"docs/{page}: {why} before its first block:\n{output[-3000:]}{logs(home)}"
    block = tested[started[-1]]
    return (
        f"{block.where}: {why}\n--- the block ---\n{block.text}\n--- its output ---\n"
        f"{parts[-1][-4000:]}{logs(home)}"
    )


def sudo_folder(tmp: Path) -> Path:
    """A folder holding only `sudo`, which runs its command as the test's user."""
    folder = tmp / "sudo-bin"
    folder.mkdir(exist_ok=True)
    (folder / "sudo").write_text(SUDO)
    (folder / "sudo").chmod(0o755)
    return folder


def base_env(home: Path, sudo: Path) -> dict[str, str]:
    system = [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if Path(d) != BIN]
    env = {
        "PATH": os.pathsep.join([str(home / GUIDE_VENV), str(sudo), *system]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    # pip's index, as this host configures it: the guide's installs fetch dependencies there.
    return env | {name: value for name, value in os.environ.items() if name.startswith("PIP_")}


def run_page(guide: Guide, page: str, env: dict[str, str]) -> None:
    """The page's tested blocks in one bash; then its AFTER check while what it started runs."""
    tested = shell_blocks(page, "tested")
    if page in BEFORE:
        BEFORE[page](guide)
    out = guide.tmp / f"{page}.out"
    with open(out, "w") as sink:  # a file, not a pipe: `serve &` keeps writing after bash ends
        proc = subprocess.Popen(
            ["bash", "-c", script(tested)],
            cwd=guide.home,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group to stop at the end
        )
    try:
        try:
            code: int | None = proc.wait(PAGE_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
        output = out.read_text(errors="replace")
        if code != 0 or not output.rstrip().endswith(f"{MARK} end"):
            why = f"timed out after {PAGE_SECONDS}s" if code is None else f"exited {code}"
            pytest.fail(failure(page, tested, output, guide.home, why), pytrace=False)
        if page in AFTER:
            try:
                AFTER[page](guide)
            except AssertionError as err:
                message = f"docs/{page}: {err}{logs(guide.home)}"
                raise pytest.fail.Exception(message, pytrace=False) from None
    finally:
        stop(proc.pid)


@pytest.mark.slow
def test_every_tested_command_of_the_guide_succeeds(guide):
    left_out = []
    for page in pages():
        try:
            provided = {name: PROVIDERS[name](guide) for name in settings_names(page)}
        except pytest.skip.Exception as skipped:  # no PostgreSQL here
            left_out.append(f"docs/{page} ({skipped})")
            continue
        run_page(guide, page, base_env(guide.home, sudo_folder(guide.tmp)) | provided)
    if left_out:
        pytest.skip("every other page passed; left out: " + "; ".join(left_out))
