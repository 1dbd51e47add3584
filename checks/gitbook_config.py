"""The two settings of a .gitbook.yaml that rapidvet reads, `root` and `structure.summary`,
without a YAML parser where the file is plain: importing PyYAML costs `rapidvet check` on a
GitBook handbook ~10 ms, 7% of a run on a real one.

`plain_settings` reads only what GitBook documents: block mappings, two levels deep, of
plain keys and plain one-word scalars. It declines (None) anything else, so the caller loads
the file with PyYAML: quotes, flow collections, block scalars, anchors, tags, tabs,
sequences, document markers, comments after a value, uneven indentation, and a value of
`root` or `structure`'s keys that YAML could read as other than a string (a number, a bool,
null or a date). tests/checks/test_gitbook_config.py requires PyYAML's values wherever it
reads a file, on generated files and on the corpus.
"""

from __future__ import annotations

import string

Settings = dict[str, object]  # as yaml.safe_load gives them: `root`, `structure`
READ = ("root", "structure")

# Characters that open YAML syntax beyond plain block mappings anywhere in a line.
_BEYOND_PLAIN = frozenset("\t\r\"'{}[]|>&*!%@`?,\\")
_WORD = frozenset(string.ascii_letters + string.digits + "_./-")
_KEY_START = frozenset(string.ascii_letters + "_")
_OTHER_START = frozenset(string.ascii_letters + string.digits + "_./")
# PyYAML's bools and null, compared in lower case (it knows only some of the casings).
_NOT_STRINGS = frozenset(("yes", "no", "true", "false", "on", "off", "null"))


def plain_settings(text: str) -> Settings | None:
    """`root` and `structure` as PyYAML loads them from `text` (an empty key is None,
    `structure` with keys a dict of their values), or None where the file needs PyYAML."""
    if _BEYOND_PLAIN.intersection(text):
        return None
    settings: Settings = {}
    key, holds_value = "", False  # the top-level key nested lines belong to
    nested: dict[str, object] | None = None  # its mapping, once a nested line is read
    indent_of_nested = 0
    for line in text.split("\n"):
        content = line.strip(" ")
        if not content or content.startswith("#"):
            continue
        if " #" in content:
            return None  # a comment after a value
        indent = len(line) - len(line.lstrip(" "))
        pair = _pair(content, strict=indent == 0 or key == "structure")
        if pair is None:
            return None
        name, value = pair
        if indent == 0:
            if name in READ and not _plainly_string(value):
                return None
            key, holds_value, nested = name, value is not None, None
            settings[name] = value if name in READ else None
            continue
        if not key or holds_value or key == "root":
            return None  # nested under nothing, under a key that has a value, or in `root`
        if nested is None:
            nested, indent_of_nested = {}, indent
            settings[key] = nested
        if indent != indent_of_nested or value is None:
            return None  # uneven indentation, or a third level
        if key == "structure" and not _plainly_string(value):
            return None
        nested[name] = value
    return {name: settings[name] for name in READ if name in settings}


def _pair(content: str, strict: bool) -> tuple[str, str | None] | None:
    """A `key:` or `key: value` line's key and value (None when empty). Strict: the key is
    an identifier; else a word that may hold `#` and `:` (a redirect's path and anchor)."""
    if content.endswith(":"):
        name, value = content[:-1], ""
    else:
        name, colon, value = content.partition(": ")
        if not colon:
            return None
    value = value.strip(" ")
    if strict:
        if not (name[:1] in _KEY_START and _words(name, "") and _plainly_string(name)):
            return None
    elif not (name[:1] in _OTHER_START and _words(name, "#:") and not name.endswith(":")):
        return None
    if value and not (value[0] in _OTHER_START and _words(value, "#")):
        return None
    return name, value or None


def _words(text: str, extra: str) -> bool:
    return all(char in _WORD or char in extra for char in text)


def _plainly_string(value: str | None) -> bool:
    """Whether YAML reads `value` (made of `_WORD` characters) as that string whatever
    the resolver: a path (no number, bool, null or date holds a `/`) or a word that starts
    with a letter or `_` (numbers and dates start with a digit, a sign or a dot) and is not
    one of the bools or null. None, an empty value, stands for itself."""
    if value is None:
        return True
    if "#" in value:
        return False
    if "/" in value:
        return not value.startswith("-")
    return value[0] in _KEY_START and value.lower() not in _NOT_STRINGS
