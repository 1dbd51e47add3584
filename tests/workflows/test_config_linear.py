"""Every check on rapid.yml takes time linear in the file: a stranger's branch may carry one.

Each hostile shape is loaded at a size where loading takes about 50 ms and at four times that
size: the second time may be at most 6 times the first (linear shows 4, quadratic 16; at
twice the size, linear 2 against quadratic 4 left too little room for a machine busy with
other tests, which once made a linear shape 2.7). Times are the best of three runs, the
sizes taking turns, and a ratio over the limit is measured again, up to three times in all,
before it counts: the noise of a shared machine only ever makes a ratio worse by chance.
Every size stays within MAX_BYTES, which would otherwise refuse the file before any check ran.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from rapidvet.workflows.config_loader import MAX_BYTES, ConfigError, load_config

RATIO = 6.0
BASE_SECONDS = 0.05
ATTEMPTS = 3


def items(make: Callable[[int], str], n: int) -> str:
    return ", ".join(make(i) for i in range(n))


def kind_with(sections: str) -> str:
    return f"version: 1\nchecks: {{kinds: [{{name: OKR, sections: [{sections}]}}]}}\n"


def handle(i: int) -> str:
    return f"'@user{i}'"


def alias(i: int) -> str:
    return f"Alias{i}: {handle(i)}"


# Each shape, of size n: long lists, many keys, long strings, many unknown names, bad values.
SHAPES: dict[str, Callable[[int], str]] = {
    # Text and numbers do not sort, so jsonschema compared every pair for uniqueItems.
    "roles of mixed types": lambda n: (
        f"version: 1\npolicy: {{required_roles: [D, {items(str, n)}]}}\n"
    ),
    "sections of mixed types": lambda n: kind_with(f"0, {items(lambda i: f's{i}', n)}"),
    "holders of mixed types": lambda n: f"version: 1\nunavailable: [0, {items(handle, n)}]\n",
    # The message looked for the repeated item in every slice before it.
    "repeated sections": lambda n: kind_with(items(lambda i: f"s{i}", n) + ", s0"),
    "many aliases": lambda n: f"version: 1\naliases: {{{items(alias, n)}}}\n",
    "many path rules": lambda n: (
        "version: 1\npaths:\n"
        + "".join(f"  - {{pattern: 'team{i}/**', roles: {{D: '@user{i}'}}}}\n" for i in range(n))
    ),
    "many kinds": lambda n: (
        "version: 1\nchecks:\n  kinds:\n"
        + "".join(f"    - {{name: K{i}, sections: [a, b]}}\n" for i in range(n))
    ),
    # An unknown name was compared for spelling with every alias: unknowns times aliases.
    "unknown aliases among many": lambda n: (
        f"version: 1\naliases: {{{items(alias, n)}}}\n"
        f"unavailable: [{items(lambda i: f'Aleas{i}', n)}]\n"
    ),
    "unknown keys": lambda n: "version: 1\n" + "".join(f"polcy{i}: 1\n" for i in range(n)),
    "unknown rule ids": lambda n: (
        "version: 1\nchecks:\n  rules:\n"
        + "".join(f"    measures-numerc{i}: off\n" for i in range(n))
    ),
    "bad values": lambda n: (
        "version: 1\npaths:\n"
        + "".join("  - {pattern: 1, block: '', roles: {Q: 1, D: [a, b]}}\n" for _ in range(n))
    ),
    "kind names taken": lambda n: (
        "version: 1\nchecks:\n  kinds:\n"
        + "".join("    - {name: OKR, sections: [a, A]}\n" for _ in range(n))
    ),
    # Long strings: the schema's patterns, quoting and did-you-mean see each of them whole.
    "long alias name": lambda n: f"version: 1\naliases: {{'{'ab cd ' * n}(': '@x'}}\n",
    "long handle": lambda n: f"version: 1\naliases: {{A: '@{'a-' * n}/'}}\n",
    "long holder": lambda n: f"version: 1\nunavailable: ['{'a b ' * n}@']\n",
    "long unknown alias": lambda n: (
        f"version: 1\naliases: {{A: '@a'}}\nunavailable: ['{'Ab' * n}']\n"
    ),
    "long kind name": lambda n: (
        f'version: 1\nchecks: {{kinds: [{{name: "a{" " * n}\\n", sections: [a]}}]}}\n'
    ),
    "long unknown key": lambda n: f"version: 1\n? '{'polic' * n}'\n: 1\n",
    "long rule id": lambda n: f"version: 1\nchecks: {{rules: {{'{'measures-' * n}': off}}}}\n",
}


def load(text: str) -> None:
    with contextlib.suppress(ConfigError):
        load_config(text)


def seconds(text: str) -> float:
    start = time.perf_counter()
    load(text)
    return time.perf_counter() - start


def scaling(make: Callable[[int], str]) -> tuple[int, float]:
    """(n, time at 4n / time at n) with n grown until loading takes about BASE_SECONDS; the
    two sizes take turns, so a busy moment of the machine slows both alike."""
    n = 16
    while len(make(8 * n)) <= MAX_BYTES and seconds(make(n)) < BASE_SECONDS:
        n *= 2
    small, large = make(n), make(4 * n)
    assert len(large) <= MAX_BYTES
    times = [(seconds(small), seconds(large)) for _ in range(3)]
    return n, min(t for _, t in times) / max(min(t for t, _ in times), 1e-6)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_loading_is_linear(shape: Callable[[int], str]) -> None:
    for _ in range(ATTEMPTS):  # noise is one-sided: confirm before reporting
        n, ratio = scaling(shape)
        if ratio <= RATIO:
            break
    assert ratio <= RATIO, f"{shape(2)!r} at n={n}: x{ratio:.1f}"
