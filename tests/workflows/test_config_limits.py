"""rapid.yml's memory ceiling: raw size, size with aliases written out, and short messages.

A pull request's branch may carry a hostile rapid.yml, and the App parses it, so each limit
here is measured with tracemalloc and refused as an ordinary, located config problem.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from rapidvet.workflows.config_errors import MAX_PROBLEM_CHARS, MAX_PROBLEMS, QUOTE_LIMIT
from rapidvet.workflows.config_loader import MAX_BYTES, ConfigError, load_config
from rapidvet.workflows.config_schema import schema_problems
from rapidvet.workflows.config_yaml import MAX_EXPANDED_BYTES, parse_yaml

# The longest message a problem may have: a path and a value quoted (each escaped character
# written as up to four), and the words around them, such as the list of rule ids.
MESSAGE_LIMIT = 2 * 4 * QUOTE_LIMIT + 800


def alias_bomb(size: int, uses: int) -> str:
    """One long holder, repeated through aliases: how the 654 MB report was made."""
    return f'version: 1\nunavailable: [&s "@({"x" * size}"' + ", *s" * uses + "]\n"


def peak_bytes(work: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        work()
    except ConfigError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def refusal(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(text)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(("size", "uses"), [(100_000, 2000), (600_000, 2000)])
def test_alias_bombs_are_refused_in_little_memory(size: int, uses: int) -> None:
    text = alias_bomb(size, uses)
    assert peak_bytes(lambda: load_config(text)) < 50_000_000
    [(_, _, message)] = refusal(text)
    assert "larger than the limit" in message or "aliases written out" in message


def expanded_to(total: int, uses: int = 4) -> str:
    """A document whose keys and text come to `total` bytes once its aliases are written out;
    the last alias, on line 4 + `uses`, is the one that reaches it."""
    text = "t" * 200_000
    keys_and_version = sum(map(len, ("version", "1", "text", "pad", "uses")))
    pad = total - keys_and_version - len(text) * (1 + uses)
    return f'version: 1\ntext: &t "{text}"\npad: "{"p" * pad}"\nuses:\n' + "  - *t\n" * uses


def test_the_alias_that_crosses_the_expanded_limit_is_located() -> None:
    assert len(expanded_to(MAX_EXPANDED_BYTES + 1).encode()) < MAX_BYTES
    assert refusal(expanded_to(MAX_EXPANDED_BYTES + 1)) == [
        (
            8,
            5,
            f"this alias takes the document past {MAX_EXPANDED_BYTES} bytes with aliases "
            "written out (each use repeats what it refers to); repeat less through aliases",
        )
    ]


def test_a_document_at_the_expanded_limit_is_read() -> None:
    # Only the schema objects to it: its keys are not rapid.yml's.
    messages = [message for _, _, message in refusal(expanded_to(MAX_EXPANDED_BYTES))]
    assert [m.split(";")[0] for m in messages] == [
        f"unknown key '{key}'" for key in ("text", "pad", "uses")
    ]


def test_long_text_counts_in_utf8_bytes() -> None:
    # 'é' is two bytes: written out, fewer characters than the limit but more bytes.
    text = "version: 1\nx: &e " + "é" * 100_000 + "\ny: [" + ", ".join(["*e"] * 5) + "]\n"
    [(line, _, message)] = refusal(text)
    assert (line, message.startswith("this alias takes")) == (3, True)


def test_a_self_referencing_anchor_still_refused_as_too_deep() -> None:
    [(_, _, message)] = refusal("version: 1\nx: &a [*a, *a]\n")
    assert "nested more than" in message


HOSTILE_TEXT = "\\" * 100_000  # repr doubles each backslash
# A key longer than 1024 characters must be written as an explicit one, `? key`.
HOSTILE_KEY = f"? '{HOSTILE_TEXT}'\n: 1\n"
HOSTILE_MESSAGES = {
    "unknown key": f"version: 1\n{HOSTILE_KEY}",
    "bad alias name": f"version: 1\naliases: {{'{HOSTILE_TEXT} (': '@a'}}\n",
    "bad holder": f"version: 1\nunavailable: ['{HOSTILE_TEXT}(']\n",
    "bad handle": f"version: 1\naliases: {{A: '{HOSTILE_TEXT}'}}\n",
    "bad enum": f"version: 1\npolicy: {{dismiss_on: '{HOSTILE_TEXT}'}}\n",
    "bad const": f"version: '{HOSTILE_TEXT}'\n",
    "unknown alias": f"version: 1\nunavailable: '{HOSTILE_TEXT}'\n",
    "unknown rule": f"version: 1\nchecks: {{rules: {{'{HOSTILE_TEXT}': off}}}}\n",
    "unknown plain rule": f"version: 1\nchecks:\n  rules:\n    ? {'r' * 150_000}\n    : off\n",
    "long pattern": f"version: 1\npaths: [{{pattern: '{HOSTILE_TEXT}'}}]\n",
    "duplicate key": f"version: 1\n{HOSTILE_KEY}{HOSTILE_KEY}",
    "bad scalar": f"version: !!int '{HOSTILE_TEXT}'\n",
    "unsupported tag": f"version: !{'t' * 150_000} 1\n",
    "undefined alias": f"version: *{'a' * 150_000}\n",
    "huge integer": f"version: 0x{'f' * 150_000}\n",
    "huge float": f"version: 1{'0' * 400}.0\n",
}


@pytest.mark.parametrize("text", HOSTILE_MESSAGES.values(), ids=HOSTILE_MESSAGES.keys())
def test_messages_quote_only_the_start_of_a_value(text: str) -> None:
    found = refusal(text)
    assert found
    assert all(len(message) < MESSAGE_LIMIT for _, _, message in found), found


def test_validation_never_writes_out_a_long_value() -> None:
    # jsonschema reprs each failing value as it makes the error, read or not: a 200 000
    # character holder repeated four times, a list too long and repeated, would cost
    # megabytes of reprs. The validator sees values with short reprs instead.
    text = "t" * 200_000
    document = parse_yaml(
        f'version: 1\npaths: [{{pattern: a, roles: {{D: [&t "@{text}", *t, *t, *t]}}}}]\n',
        "rapid.yml",
    )
    assert document is not None
    problems: list[Any] = []
    assert peak_bytes(lambda: problems.extend(schema_problems(document, "rapid.yml"))) < (
        1.5 * 4 * len(text)
    )
    assert len(problems) == 2  # too many Deciders, listed twice


def test_patterns_are_short_enough_to_keep_compiled() -> None:
    # Compiled patterns are cached across configurations: each must stay small.
    assert refusal(f"version: 1\npaths: [{{pattern: {'a' * 1001}}}]\n") == [
        (2, 19, "paths[0].pattern: expected at most 1000 characters, got 1001")
    ]
    assert load_config(f"version: 1\npaths: [{{pattern: {'a' * 1000}}}]\n").paths


def many_bad_holders(count: int) -> str:
    """`count` numbers where holders go: each a problem, and the list holds repeats."""
    return "version: 1\nunavailable: [" + ", ".join(["1"] * count) + "]\n"


def test_problems_past_the_cap_are_counted_in_one_line() -> None:
    found = refusal(many_bad_holders(20_000))
    # The list's repeats, then one per item; past the cap, one line where the next one is.
    assert found[0] == (2, 14, "unavailable: 1 is listed twice")
    assert found[1:3] == [
        (2, 15, "unavailable[0]: expected a string, got 1"),
        (2, 18, "unavailable[1]: expected a string, got 1"),
    ]
    assert len(found) == MAX_PROBLEMS + 1
    more = 20_001 - MAX_PROBLEMS
    assert found[-1] == (2, 15 + 3 * 99, f"… and {more} more problems; fix these first")


def test_problems_up_to_the_cap_are_all_listed() -> None:
    found = refusal(many_bad_holders(MAX_PROBLEMS - 1))
    assert len(found) == MAX_PROBLEMS
    assert not any(message.startswith("…") for _, _, message in found)


def test_long_problems_are_capped_by_their_length_too() -> None:
    # Each problem quotes two values of control characters, four characters each in repr.
    hostile = "\\x01" * QUOTE_LIMIT
    aliases = ", ".join(f'"{hostile}{i}": "{hostile}"' for i in range(MAX_PROBLEMS))
    with pytest.raises(ConfigError) as caught:
        load_config(f"version: 1\naliases: {{{aliases}}}\n")
    listed = [str(problem) for problem in caught.value.problems]
    assert len(listed) < MAX_PROBLEMS
    assert sum(map(len, listed[:-1])) <= MAX_PROBLEM_CHARS
    assert listed[-1].endswith("more problems; fix these first")
