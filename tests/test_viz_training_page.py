"""The training replay page as a file: the recorded frames, safely embedded; bad input is named."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from training_frames import HandFrame, HandHistory, fit_history

import viz
from viz.training_page import TEMPLATE, template, training_html

ROOT = Path(__file__).resolve().parent.parent
DATA = re.compile(r'<script type="application/json" id="training-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def recorded() -> tuple[HandHistory, list[list[float]], list[float]]:
    return fit_history(epochs=12, record=4)


def page_data(page: str) -> dict[str, Any]:
    """The JSON the page's script reads (JSON.parse reads the \\u escapes back as the same text)."""
    match = DATA.search(page)
    assert match is not None
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_the_page_embeds_every_frame_as_recorded(recorded: Any, tmp_path: Path) -> None:
    history, xs, ys = recorded
    path = viz.save_training_html(history, tmp_path / "out" / "training.html", xs=xs, ys=ys)
    assert path == str(tmp_path / "out" / "training.html")
    page = Path(path).read_text(encoding="utf-8")
    data = page_data(page)
    assert data["frames"] == [f.as_dict() for f in history.frames]
    assert [f["step"] for f in data["frames"]] == [0, 4, 8, 11]  # every 4th step and the last
    assert data["curve"] == [
        {key: f.as_dict()[key] for key in ("step", "loss", "accuracy")} for f in history.frames
    ]
    assert data["points"] == {"xs": xs, "ys": ys}
    assert data["threshold"] == 0.0  # -1/+1 labels: the line is output = 0
    assert not list((tmp_path / "out").glob(".*.tmp"))  # the atomic write left no temporary file


def test_the_csp_pins_the_templates_one_script_and_loads_nothing(recorded: Any) -> None:
    page = training_html(recorded[0])
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert csp is not None
    assert csp.group(1) == f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    # No URL but the SVG namespace's name (which names, and loads, nothing).
    assert re.findall(r"https?://[^\s\"']*", page) == ["http://www.w3.org/2000/svg"]
    assert not re.search(r"\b(src|href)\s*=", page)


def test_zero_one_labels_put_the_line_at_one_half(recorded: Any) -> None:
    history, xs, ys = recorded
    zero_one = [(y + 1) / 2 for y in ys]
    assert page_data(training_html(history, xs=xs, ys=zero_one))["threshold"] == 0.5
    assert page_data(training_html(history, xs=xs, ys=zero_one, threshold=0.2))["threshold"] == 0.2


HOSTILE = '</script><script>alert("x")</script><!-- ]]> \u2028 & "'


def hostile_history(recorded: Any) -> HandHistory:
    """The recorded frames with hostile text in every place a frame holds text, and a NaN loss."""
    frames = []
    for f in recorded[0].frames:
        d = f.as_dict()
        d["sample"]["target"] = HOSTILE
        d["layers"][0]["name"] = HOSTILE
        frames.append(HandFrame(d))
    frames[1].data["loss"] = math.nan
    frames[2].data["layers"][1]["weight_grads"][0][0] = -math.inf
    return HandHistory(loss=[], accuracy=[], frames=frames)


def test_hostile_text_and_nan_stay_data(recorded: Any) -> None:
    history = hostile_history(recorded)
    page = training_html(history, title=HOSTILE)
    data = page_data(page)
    assert data["frames"][0]["sample"]["target"] == HOSTILE
    assert data["frames"][1]["loss"] == "NaN"  # JSON has no NaN: the page reads the string back
    assert data["frames"][2]["layers"][1]["weight_grads"][0][0] == "-Infinity"
    assert page.count("</script>") == 2 and page.count("<script") == 2
    assert "<!--" not in page and "\u2028" not in page
    # The title is text: escaped, and the line separator shown as a visible escape.
    shown = html.escape(HOSTILE).replace("\u2028", "\\u2028")
    assert f"<title>{shown}</title>" in page


def test_no_frames_says_how_to_record_them() -> None:
    with pytest.raises(ValueError, match=r"no frames.*nn\.fit\(\.\.\., record=k\)"):
        training_html(HandHistory())
    with pytest.raises(TypeError, match=r"History with \.frames.*got list"):
        training_html([1, 2])


FRAME, LIST8 = r"^history\.frames\[0\]", " needs a list of 8 numbers, got list of "


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda d: d.pop("loss"), ValueError, r"history\.frames\[0\] has no 'loss' field"),
        (lambda d: d.update(loss="0.1"), TypeError, FRAME + r"\.loss needs a number, got str '0\.1'$"),
        (lambda d: d.update(loss=True), TypeError, FRAME + r"\.loss needs a number, got bool True$"),
        (lambda d: d.update(step=-1), ValueError, FRAME + r"\.step needs an int >= 0, got -1$"),
        (lambda d: d.update(layers=[]), ValueError, r"layers must be a non-empty list"),
        (lambda d: d["layers"][0]["biases"].pop(), ValueError, r"\]\.biases" + LIST8 + "7$"),
        (lambda d: d["layers"][1]["weight_grads"][0].append(1.0), ValueError, r"grads\[0\]" + LIST8 + "9$"),
        (lambda d: d["boundary"].update(size=1),
         ValueError, FRAME + r"\.boundary\.size needs an int >= 2, got 1$"),
        (lambda d: d["boundary"].update(x_max=-9.0), ValueError, r"x_min < x_max"),
        (lambda d: d["boundary"]["values"].pop(), ValueError, r"boundary\.values must have 25 rows"),
        (lambda d: d["sample"]["neurons"]["L1.n0"].pop("delta"), ValueError, r"has no 'delta' field"),
        (lambda d: d["sample"].update(target=object()), TypeError, r"target must be JSON data"),
        (lambda d: d.update(sample=None, boundary=None), None, ""),  # both are optional
    ],
)
def test_a_malformed_frame_is_named(recorded: Any, change: Any, error: Any, message: str) -> None:
    d = recorded[0].frames[0].as_dict()
    change(d)
    history = HandHistory(frames=[HandFrame(d)])
    if error is None:
        assert page_data(training_html(history))["frames"][0]["sample"] is None
        return
    with pytest.raises(error, match=message):
        training_html(history)


def test_a_frame_without_as_dict_is_a_type_error(recorded: Any) -> None:
    history = HandHistory(frames=[recorded[0].frames[0], {"step": 0}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"frames\[1\] must be a training frame with \.as_dict\(\).*got dict"):
        training_html(history)


def test_numpy_points_are_read_as_lists(recorded: Any) -> None:
    np = pytest.importorskip("numpy", reason="the NumPy case needs numpy (the plots extra)")
    history, xs, ys = recorded
    data = page_data(training_html(history, xs=np.array(xs), ys=np.array(ys)))
    assert data["points"] == {"xs": xs, "ys": ys}


def test_bad_points_are_named(recorded: Any) -> None:
    history, xs, _ = recorded
    with pytest.raises(ValueError, match="give both xs and ys"):
        training_html(history, xs=xs)
    page = "^save_training_html: "
    with pytest.raises(ValueError, match=page + r"xs\[0\] needs a list of 2 numbers, got list of 3$"):
        training_html(history, xs=[[1.0, 2.0, 3.0]], ys=[1.0])
    with pytest.raises(ValueError, match=page + r"ys needs a list of 40 numbers, got list of 2$"):
        training_html(history, xs=xs, ys=[1.0, 2.0])
    with pytest.raises(TypeError, match="title"):
        training_html(history, title=3)  # type: ignore[arg-type]


def test_a_failed_write_keeps_the_old_page(
    recorded: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "training.html"
    path.write_text("the old page", encoding="utf-8")

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        viz.save_training_html(recorded[0], path)
    assert path.read_text(encoding="utf-8") == "the old page"
    assert [p.name for p in tmp_path.iterdir()] == ["training.html"]


def test_the_template_ships_as_package_data() -> None:
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    patterns = re.findall(r'"([^"]+)"', re.search(r"^viz = \[(.*)\]$", config, re.M).group(1))  # type: ignore[union-attr]
    assert any(fnmatch.fnmatch(str(TEMPLATE), pattern) for pattern in patterns)
    assert (ROOT / "viz" / TEMPLATE).read_text(encoding="utf-8") == template()
    for placeholder in ("__CSP__", "__TITLE__", "__DATA__"):
        assert placeholder in template()

