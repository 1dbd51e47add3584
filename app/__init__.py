"""rapidvet's application layer: command line, web server, stores."""

# A constant, not importlib.metadata: reading the installed metadata costs every command
# ~35 ms of start-up. tests/deploy/test_release.py checks it equals pyproject.toml's version.
__version__ = "0.1.0"
