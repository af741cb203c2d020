"""viz.labels: 4-significant-digit numbers, operation symbols, and the one place that escapes user text."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viz.labels import (
    MAX_LABEL_CHARS,
    MAX_TOOLTIP_CHARS,
    dot_text,
    dot_tooltip,
    fmt,
    fmt_factor,
    is_shortened,
    page_text,
    pretty_rule,
    shorten,
    srcdoc,
    superscript,
)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.123456, "0.1235"),
        (2.0, "2"),
        (-0.0, "0"),
        (0.0, "0"),
        (-1.23449, "-1.234"),
        (1234567.0, "1.235e+06"),
        (0.00012345, "0.0001234"),
        (float("inf"), "inf"),
    ],
)
def test_fmt_shows_four_significant_digits(x: float, text: str) -> None:
    assert fmt(x) == text


def test_fmt_factor_brackets_negative_numbers() -> None:
    assert fmt_factor(-0.5) == "(-0.5)"
    assert fmt_factor(0.5) == "0.5"


def test_rule_tidying_and_superscripts() -> None:
    assert pretty_rule("2 v1^(2-1)") == "2 v1"
    assert pretty_rule("3 x^(3-1)") == "3 x²"
    assert pretty_rule("1 - tanh(z)^2") == "1 − tanh(z)²"
    assert pretty_rule("0.5 x^(0.5-1)") == "0.5 x^-0.5"
    assert superscript("-1") == "⁻¹" and superscript("2.5") is None


def test_escaping_turns_markup_into_entities_and_control_characters_into_visible_text() -> None:
    assert dot_text('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert dot_text("two\nlines\t!") == "two\\nlines\\t!"
    assert page_text("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"


@given(st.text())
def test_escaped_text_never_contains_markup(text: str) -> None:
    for escape in (dot_text, page_text):
        assert not set(escape(text)) & set("<>\"'\n\r\x00")


@given(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\ufffe\uffff"
        )
    )
)
def test_escaped_printable_text_unescapes_to_itself(text: str) -> None:
    assert html.unescape(dot_text(text, limit=len(text) + 1)) == text
    assert html.unescape(dot_text(text)) == shorten(text)
    assert html.unescape(page_text(text)) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\ud800b", "a\\ud800b"),  # a lone surrogate cannot be encoded as UTF-8
        ("\udfff", "\\udfff"),
        ("x\ufffey\uffff", "x\\ufffey\\uffff"),  # not XML characters: dot's parser rejects them
        ("nul\x00", "nul\\x00"),
        ("bell\x07", "bell\\x07"),
    ],
)
def test_text_graphviz_cannot_take_is_shown_as_escapes(text: str, shown: str) -> None:
    assert dot_text(text) == shown
    assert page_text(text) == shown
    dot_text(text).encode("utf-8")  # never a UnicodeEncodeError


def test_long_text_is_shortened_visibly_and_the_tooltip_keeps_it() -> None:
    text = "é" * 20_000
    shown = dot_text(text)
    assert len(shown) == MAX_LABEL_CHARS and shown.endswith("…")
    assert is_shortened(text) and not is_shortened("short")
    assert dot_text("x" * MAX_LABEL_CHARS) == "x" * MAX_LABEL_CHARS
    assert dot_tooltip("a\\N \\l" + "b" * 5000).startswith("a\\\\N \\\\l")
    assert len(dot_tooltip("b" * 5000)) == MAX_TOOLTIP_CHARS
    with pytest.raises(ValueError, match=r"^shorten\(limit\) needs an int >= 1, got 0$"):
        shorten("abc", 0)


def test_srcdoc_escapes_a_page_for_an_attribute() -> None:
    page = '<p class="a">x & y</p>'
    escaped = srcdoc(page)
    assert '"' not in escaped and "<" not in escaped
    assert html.unescape(escaped) == page
