"""README images come from the browser tests' own screenshots.

A test marks a screenshot as a README image with `screenshot(page, "plan", readme="plan.png")`.
Normally that changes nothing; with RAPIDVET_README_IMAGES=1 the PNG is also copied to
docs/images/plan.png. To refresh the images, run the browser tests with the flag:

    .venv/bin/python -m tests.support.readme_images [pytest arguments, e.g. tests/test_pages.py]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

FLAG = "RAPIDVET_README_IMAGES"
IMAGES = ROOT / "docs" / "images"
_IMAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.png")


def publishing() -> bool:
    """Return whether this run should copy README images (RAPIDVET_README_IMAGES=1)."""
    return os.environ.get(FLAG, "") not in ("", "0")


def publish(screenshot: Path, image: str) -> Path | None:
    """Copy screenshot to docs/images/<image> when publishing; return the copy, else None."""
    # Checked even when not publishing, so a bad name fails in every run, not only the rare one.
    if not _IMAGE_NAME.fullmatch(image):
        raise ValueError(f"README image name {image!r} must look like 'plan-page.png'")
    if not publishing():
        return None
    IMAGES.mkdir(parents=True, exist_ok=True)
    target = IMAGES / image
    shutil.copyfile(screenshot, target)
    print(f"README image {target} <- {screenshot}")
    return target


def main(args: list[str]) -> int:
    """Run pytest with the flag set; -s shows which screenshots became README images."""
    env = {**os.environ, FLAG: "1"}
    command = [sys.executable, "-m", "pytest", "-s", *(args or ["tests"])]
    return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
