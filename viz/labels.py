"""Number formatting, rule-text tidying and ALL escaping of user text (DOT HTML-like labels, HTML
pages, LaTeX).

Labels are user text: every string that reaches a diagram or a web page goes through `dot_text`
or `page_text` here, and every LaTeX display through `latex_text` and `latex_inert`, and nowhere
else, so one place decides what is safe.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

from autograd.checks import integer

# Control characters (newline, tab, NUL, ...) would break a one-line label or confuse dot's
# parser; they are shown as visible escapes ("\n") instead. So are the code points XML forbids
# or that cannot be encoded: lone surrogates ("\ud800" raised UnicodeEncodeError) and U+FFFE/U+FFFF
# (dot's XML parser fails with "not well-formed" on them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")

# dot refuses an HTML-like label longer than 16,384 characters ("longer than 16384?"), and a
# label that long could not be read anyway: user text longer than this is cut with an ellipsis.
MAX_LABEL_CHARS = 120
# Tooltips (SVG <title>) carry the full text of a shortened label, up to this many characters.
MAX_TOOLTIP_CHARS = 2000

_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


def fmt(x: float) -> str:
    """`x` with 4 significant digits ("0.1235", "-2", "1.5e+06"); -0.0 shows as "0"."""
    if x == 0.0:
        return "0"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.4g}"


def fmt_factor(x: float) -> str:
    """`fmt(x)` in parentheses when negative, so products read unambiguously: "0.5 × (-2)"."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def superscript(text: str) -> str | None:
    """`text` in superscript characters ("2" -> "²", "-1" -> "⁻¹"), None if it has other characters."""
    if not re.fullmatch(r"-?\d+", text):
        return None
    return text.translate(_SUPERSCRIPT)


# Generic tidying of a rule text after its operand names are filled in: "(2-1)" -> "1", "^1" -> "".
_SMALL_DIFFERENCE = re.compile(r"\((-?\d+(?:\.\d+)?) ?- ?(\d+(?:\.\d+)?)\)")
_POWER_ONE = re.compile(r"\^1(?![\d.])")
_POWER_INT = re.compile(r"\^(\d)(?![\d.(])")


def pretty_rule(text: str) -> str:
    """A filled-in plain rule as a learner reads it: "2 v^(2-1)" -> "2 v", "1 - t^2" -> "1 − t²"."""
    text = _SMALL_DIFFERENCE.sub(lambda m: f"{float(m.group(1)) - float(m.group(2)):g}", text)
    text = _POWER_ONE.sub("", text)
    text = _POWER_INT.sub(lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    return text.replace(" - ", " − ")


def _escape_one(char: str) -> str:
    """A visible escape for one control or XML-invalid character: "\\n", "\\x00", "\\ud800"."""
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    code = ord(char)
    return named.get(char, f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def _visible(text: str) -> str:
    """`text` with control and XML-invalid characters replaced by visible escapes (newline -> "\\n")."""
    return _CONTROL.sub(lambda m: _escape_one(m.group()), text)


def shorten(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """`text` cut to `limit` characters, the cut shown by a trailing "…" (ValueError if limit < 1)."""
    limit = integer(limit, "shorten(limit)", at_least=1)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dot_text(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """`text` escaped for the inside of a DOT HTML-like label (<...>): & < > " ' become entities.

    Inside an HTML-like label dot treats braces, bars, quotes and backslashes as plain text, so
    entity-escaping the XML specials (and showing control and XML-invalid characters as escapes)
    is enough for any user string to render as text and never end the label early. `]` becomes
    `&#93;` too: dot's HTML lexer rejects a text of only "]" characters (a label "]" or "]]").
    Text longer than `limit` characters is shortened visibly ("…"); `dot_tooltip` keeps the full text.
    """
    return html.escape(shorten(_visible(text), limit), quote=True).replace("]", "&#93;")


def is_shortened(text: str, limit: int = MAX_LABEL_CHARS) -> bool:
    """True when `dot_text(text, limit)` cuts `text` (so a tooltip should carry the full text)."""
    return len(_visible(text)) > limit


def dot_tooltip(text: str) -> str:
    """`text` as a plain DOT attribute value (a tooltip): visible escapes, backslashes doubled.

    graphviz quotes the value and escapes its double quotes; doubling backslashes stops dot from
    reading "\\N" or "\\l" in user text as its own escapes. Cut at MAX_TOOLTIP_CHARS.
    """
    return shorten(_visible(text), MAX_TOOLTIP_CHARS).replace("\\", "\\\\")


def page_text(text: str) -> str:
    """`text` escaped for an HTML page (element text or a quoted attribute value)."""
    return html.escape(_visible(text), quote=True)


def srcdoc(page: str) -> str:
    """A whole HTML page escaped for an iframe's srcdoc="..." attribute (& < > " ' as entities).

    The page's own text was escaped when it was built; this second escape is undone by the
    browser when it reads the attribute, so the page arrives byte for byte.
    """
    return html.escape(page, quote=True)


# LaTeX's special characters in text, as escapes that typeset them literally.
LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}", "#": r"\#",
    "$": r"\$", "%": r"\%", "&": r"\&", "~": r"\~{}",
}
# The characters that would be HTML markup where a front end inserts text/latex as HTML (a tag, a
# quoted attribute), as math that typesets the same: \lt and \gt in MathJax and KaTeX, '' for ".
_LATEX_MARKUP = {"<": r"\lt ", ">": r"\gt ", '"': "''"}
_MARKUP = re.compile(r'([<>"])')


def latex_text(text: str) -> str:
    r"""User text as upright LaTeX: `\text{...}` with LaTeX's specials escaped, and < > " set as math
    between the text pieces (a "\lt" inside \text would print as itself), so no character of it
    is HTML markup: `latex_text('a<b')` is `\text{a}\lt \text{b}`."""
    out = []
    for piece in _MARKUP.split(text):
        if piece in _LATEX_MARKUP:
            out.append(_LATEX_MARKUP[piece])
        elif piece:
            out.append(r"\text{" + "".join(LATEX_SPECIALS.get(c, c) for c in piece) + "}")
    return "".join(out) or r"\text{}"


def latex_char(char: str) -> str:
    """One character of a formula in LaTeX math: specials escaped, < > " as math (see `latex_text`)."""
    return _LATEX_MARKUP.get(char) or LATEX_SPECIALS.get(char, char)


# MathJax commands that make links, attributes or loads (\href{javascript:...}, \class, \require):
# in a learner's latex= text they are shown as text instead.
_ACTIVE_COMMANDS = re.compile(
    r"\\(href|url|class|cssId|style|data|html|htmlClass|htmlStyle|htmlId|htmlData|require|includegraphics)"
    r"(?![A-Za-z])"
)


def latex_inert(latex: str) -> str:
    r"""LaTeX (ours, or a learner's `latex=` text) with every < > " replaced by the math that typesets
    the same (\lt, \gt, ''), and commands that make links or load things (\href, \url, \class,
    \require, ...) shown as text: no tag, attribute or link can come from it where a front end
    inserts text/latex as HTML or typesets it. The last step of every LaTeX display."""
    latex = _ACTIVE_COMMANDS.sub(lambda m: rf"\backslash\mathrm{{{m.group(1)}}}", latex)
    return _MARKUP.sub(lambda m: _LATEX_MARKUP[m.group()], latex)


def script_json(data: Any) -> str:
    """`data` as JSON safe inside a <script> element: < > & and U+2028/2029 as \\u escapes.

    JSON.parse reads the escapes back as the same characters, and no "</script>" or "<!--" can
    appear in the page's source.
    """
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text
