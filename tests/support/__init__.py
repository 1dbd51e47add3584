"""What the tests share: the fake GitHub, servers and processes to drive, builders of reviews and
pages, the browser rig, and the paths of the repository they test."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
