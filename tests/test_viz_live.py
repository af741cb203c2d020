"""viz.TrainingView, fit's on_frame for Jupyter: one display updated in place, run in a real kernel.

Outside a kernel the view prints one line and draws nothing; its HTML is the replay page holding
the newest frame (the loss curve keeps every frame) under a plain line of the newest numbers.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from training_frames import HandFrame, HandHistory, fit_history

import viz
from viz.live import NOT_IN_JUPYTER

TESTS = Path(__file__).resolve().parent
SRCDOC = re.compile(r'<iframe srcdoc="([^"]*)"')
DATA = re.compile(r'<script type="application/json" id="training-data">(.*?)</script>', re.S)


def embedded(view_html: str) -> dict[str, Any]:
    """The data of the page inside the view's iframe."""
    srcdoc = SRCDOC.search(view_html)
    assert srcdoc is not None
    data = DATA.search(html.unescape(srcdoc.group(1)))
    assert data is not None
    return json.loads(data.group(1))  # type: ignore[no-any-return]


def test_outside_jupyter_it_says_once_and_keeps_the_newest_frame(capsys: pytest.CaptureFixture[str]) -> None:
    view = viz.TrainingView()
    assert repr(view) == "<TrainingView: no frame yet>"
    assert "no frame yet" in view.html()
    history, _, _ = fit_history(epochs=13, record=3, on_frame=view)
    assert capsys.readouterr().out == NOT_IN_JUPYTER + "\n"  # one line, however many frames
    assert view.frames == 5 and view.shown == 0
    last = history.frames[-1].as_dict()
    assert repr(view) == f"<TrainingView: 5 frames, step 12, loss {last['loss']:.4g}>"
    shown = view.html()
    assert f'<b data-field="loss" data-value="{last["loss"]!r}">' in shown
    assert '<b data-field="step">12</b>' in shown and '<b data-field="frame">5</b>' in shown
    data = embedded(shown)
    assert data["frames"] == [last] and data["live"] is True and data["recorded"] == 5
    assert [p["loss"] for p in data["curve"]] == [f.as_dict()["loss"] for f in history.frames]
    assert 'sandbox="allow-scripts"' in shown


def test_points_and_title_are_checked_and_escaped() -> None:
    with pytest.raises(ValueError, match=r"^TrainingView\(every\) needs a finite number >= 0, got -1$"):
        viz.TrainingView(every=-1)
    with pytest.raises(TypeError, match=r"^TrainingView\(every\) needs a finite number >= 0, got bool True$"):
        viz.TrainingView(every=True)
    with pytest.raises(ValueError, match="give both xs and ys"):
        viz.TrainingView(xs=[[0.0, 1.0]])
    with pytest.raises(TypeError, match="title"):
        viz.TrainingView(title=None)  # type: ignore[arg-type]
    view = viz.TrainingView(title="<script>alert(1)</script>")
    history, _, _ = fit_history(epochs=4, record=4)
    view(history, history.frames[0])
    assert "<script>alert(1)" not in view.html().split("<iframe")[0]
    with pytest.raises(TypeError, match=r"frame must be a training frame with \.as_dict\(\).*got dict"):
        view(history, {"step": 0})
    bad = HandFrame({**history.frames[0].as_dict(), "loss": None})
    with pytest.raises(TypeError, match=r"frame\.loss needs a number, got NoneType None$"):
        view(HandHistory(frames=[bad]), bad)


nbformat = pytest.importorskip("nbformat", reason="the notebook test needs the dev extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs the dev extra (nbclient)")

TRAIN = """\
import sys
sys.path.insert(0, {tests!r})
from training_frames import fit_history
import viz

view = viz.TrainingView(every={every})
history, xs, ys = fit_history(epochs=61, record=2, on_frame=view)
"""


def run_cells(sources: list[str]) -> list[Any]:
    """Run the cells in a fresh kernel; each cell's outputs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return [cell.outputs for cell in nb.cells]


@pytest.mark.slow
def test_one_display_updated_in_place_in_a_real_kernel() -> None:
    outputs = run_cells([
        TRAIN.format(tests=str(TESTS), every=30),  # throttled: the first frame, then the last at the end
        "print(view.frames, view.shown, repr(history.frames[-1].as_dict()['loss']))",
        # every=0: redraws as often as the cost rule allows (a redraw takes at most a tenth of the time)
        TRAIN.format(tests=str(TESTS), every=0),
        "print(view.frames, view.shown)",
        # The same view in a new cell, for a new run: a new output there, the old one left alone.
        "again, _, _ = fit_history(epochs=5, record=2, on_frame=view)",
        # The same run continued in another cell: shown there too, the earlier cell keeps step 4.
        "from training_frames import HandFrame\n"
        "later = again.frames[-1].as_dict()\nlater['step'] = 99\nview(again, HandFrame(later))",
    ])
    for cell in (0, 2):
        displays = [o for o in outputs[cell] if o.output_type in ("display_data", "execute_result")]
        assert len(displays) == 1, [o.output_type for o in outputs[cell]]
        assert not [o for o in outputs[cell] if o.output_type in ("error", "stream")]
    frames, shown, loss = outputs[1][0]["text"].split()
    assert (frames, shown) == ("31", "2")  # 31 frames; drawn once, then flushed when the cell ended
    # The display was replaced by the last frame's view: its loss is the last frame's.
    final = outputs[0][0]["data"]["text/html"]
    assert f'<b data-field="loss" data-value="{loss}">' in final
    assert '<b data-field="frame">31</b>' in final and '<b data-field="step">60</b>' in final
    assert outputs[0][0]["data"]["text/plain"].startswith("<TrainingView: 31 frames, step 60, loss ")
    frames, shown = outputs[3][0]["text"].split()
    assert frames == "31" and 2 < int(shown) <= 31  # many redraws, still one output
    assert '<b data-field="frame">31</b>' in outputs[2][0]["data"]["text/html"]
    displays = [o for o in outputs[4] if o.output_type == "display_data"]
    assert len(displays) == 1 and len(outputs[4]) == 1
    assert '<b data-field="frame">3</b>' in displays[0]["data"]["text/html"]  # steps 0, 2 and 4
    assert '<b data-field="step">4</b>' in displays[0]["data"]["text/html"]
    assert [o.output_type for o in outputs[5]] == ["display_data"]
    assert '<b data-field="step">99</b>' in outputs[5][0]["data"]["text/html"]
    assert len(json.dumps(outputs[2])) < 1_000_000  # one frame's page, not 31 of them
