"""Hypothesis strategies shared by several test modules."""

from __future__ import annotations

from hypothesis import strategies as st

from rapidvet.checks.dates import DateStyle

# Every way of writing a date that the parser reads back to the same style.
NAMED_STYLES = st.builds(
    DateStyle,
    order=st.sampled_from(["mdy", "dmy"]),
    month=st.just("full"),
    case=st.sampled_from(["title", "upper", "lower"]),
    pad_day=st.booleans(),
    ordinal=st.booleans(),
    comma=st.booleans(),
) | st.builds(
    DateStyle,
    order=st.sampled_from(["mdy", "dmy"]),
    month=st.just("abbr"),
    sept=st.booleans(),
    dot=st.booleans(),
    case=st.sampled_from(["title", "upper", "lower"]),
    pad_day=st.booleans(),
    ordinal=st.booleans(),
    comma=st.booleans(),
)
STYLES = NAMED_STYLES | st.just(DateStyle(order="iso"))
