"""What every standalone page shares: its template files, dot's SVG inlined, and the one
Content-Security-Policy that lets only the page's own script run and loads nothing from anywhere."""

from __future__ import annotations

import base64
import hashlib
from importlib import resources


def read_template(path: str) -> str:
    """A template file shipped with viz as package data, e.g. "templates/exercise.html"."""
    return resources.files("viz").joinpath(path).read_text(encoding="utf-8")


def inline_svg(svg: str) -> str:
    """dot's SVG without the XML prolog and DOCTYPE, ready to sit inside an HTML page."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("dot returned no <svg> element")
    return svg[start:]


def script_csp(script: str) -> str:
    """The page's Content-Security-Policy: only `script` (pinned by its hash) may run, inline styles
    are allowed, nothing is fetched. Even text that slipped through escaping could not execute."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
