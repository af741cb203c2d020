"""What Jupyter shows: bounded dot runs, batches folded into boxes, views that fit, text when nothing does.

Measured on the 2-core test machine (Graphviz 2.43), `nn.MLP(2, [16, 16, 1])` with a batch loss
grouped by neuron, before this change (every input copy and every loss term drawn, one edge
per sample between boxes) and after (folded inputs and loss, merged box edges):

    batch          before: nodes/edges, dot        after: nodes/edges, dot
    mse, 20        314 / 1,102, 0.5 s              36 / 336, 0.05 s
    mse, 40        594 / 1,902, 7.1 s              36 / 336, 0.1 s
    sum, 40        269 / 1,699, 4.2 s              36 / 336, 0.1 s
    mse/sum, 100   (over 200 s)                    36 / 336, 0.1 s

The display of the 60-sample MSE went from a hang to the layer view (49 KB SVG, 561 x 1,498 pt)
in about 0.4 s; the neuron view (407 KB, 3,300 pt wide) is over the display's width budget.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import threading

import pytest
from test_viz_dot import svg_texts
from test_viz_graphs import mlp, smallest

import viz
import viz.display as display
import viz.dot as dot_module
from autograd import Value
from viz.dot import check_size
from viz.trace import drawn_edges, drawn_size, trace

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH")


def batch_loss(samples: int, kind: str = "mse", sizes: tuple[int, ...] = (2, 16, 16, 1)) -> Value:
    """A batch loss over `samples` points through one MLP: mean squared error, or a plain sum."""
    rng = random.Random(0)
    outs = []
    params: list[Value] | None = None
    for _ in range(samples):
        x = [Value(rng.uniform(-2, 2), label=f"x{i}") for i in range(sizes[0])]
        (y,), p = mlp(sizes, x, seed=1)
        if params is None:
            params = p
        outs.append(y)
    # Each sample gets its own weights, but in the same scopes ("L1.n0", ...), which is all that
    # grouping reads: the drawing has the shape of nn's batch loss.
    if kind == "sum":
        total = outs[0]
        for o in outs[1:]:
            total = total + o
        return total
    total = (outs[0] - 1.0) ** 2
    for o in outs[1:]:
        total = total + (o - 1.0) ** 2
    return total * (1.0 / samples)


def test_a_batch_grouped_by_neuron_does_not_multiply_nodes_or_edges_per_sample() -> None:
    sizes = []
    for samples in (5, 40):
        data, _ = trace(batch_loss(samples), max_nodes=None, group="neuron")
        sizes.append(drawn_size(data))
    assert sizes[0] == sizes[1]  # the same picture, whatever the batch size
    nodes, edges = sizes[1]
    # 2 input boxes + 33 neurons + the loss box; 2x16 + 16x16 + 16 + 1 box edges and row order
    assert nodes == 36
    assert edges == 2 * 16 + 16 * 16 + 16 + 1 + (1 + 15 + 15)


def test_merged_edges_say_how_many_they_stand_for() -> None:
    data, _ = trace(batch_loss(7, sizes=(2, 2, 1)), max_nodes=None, group="neuron")
    merged = drawn_edges(data)
    into_boxes = [edges for (_, head), edges in merged.items() if head.startswith("box")]
    assert into_boxes and all(len(edges) == 7 for edges in into_boxes)
    source = viz.draw(batch_loss(7, sizes=(2, 2, 1)), group="neuron").source
    assert source.count('label="×7"') == len(into_boxes)
    assert 'tooltip="7 edges"' in source


def test_folded_boxes_name_the_repeats_and_a_one_sample_loss_stays_drawn_node_by_node() -> None:
    source = viz.draw(batch_loss(30, sizes=(2, 2, 1)), group="neuron").source
    assert "x0 (30 values)" in source and "inputs" in source
    assert re.search(r"root \(\d+ operations and constants\)", source)
    one = viz.draw(batch_loss(1, sizes=(2, 2, 1)), group="neuron").source
    assert "values)" not in one and "operations and constants" not in one
    assert "<B>x0</B>" in one


def test_draw_caps_edges_and_the_error_names_the_next_grouping() -> None:
    loss = batch_loss(3, sizes=(2, 16, 16, 1))
    with pytest.raises(ValueError, match=r'draws \d+ edges .* max_edges=100.*group="layer"'):
        viz.draw(loss, group="neuron", max_edges=100)
    data, _ = trace(loss, max_nodes=None, group="layer")
    check_size(data, 100, "layer")  # the layer view is small enough


def test_the_node_cap_error_never_suggests_the_grouping_already_set() -> None:
    loss = batch_loss(2, sizes=(2, 8, 8, 1))
    with pytest.raises(ValueError, match='group="neuron" or group="layer"'):
        viz.draw(loss, max_nodes=10)
    with pytest.raises(ValueError) as grouped:
        viz.draw(loss, group="neuron", max_nodes=10)
    assert 'group="neuron"' not in str(grouped.value) and 'group="layer"' in str(grouped.value)
    with pytest.raises(ValueError) as layered:
        viz.draw(loss, group="layer", max_nodes=2)
    assert "group=" not in str(layered.value) and "max_nodes" in str(layered.value)


def test_long_weight_lists_are_summarised() -> None:
    x = [Value(0.1 * i, label=f"x{i}") for i in range(65)]
    (y,), _ = mlp((65, 1), x)
    source = viz.draw(y, group="neuron").source
    assert "… 66 weights (47 not listed)" in source  # 65 weights and the bias
    assert ">w18</TD>" in source and ">w19</TD>" not in source
    everything = viz.draw(y, group="neuron", max_params=None).source
    assert ">w64</TD>" in everything and "not listed" not in everything


@needs_dot
@pytest.mark.dot
def test_dot_is_stopped_at_its_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    real_run = dot_module._run_in_own_group

    def slow_run(command: list[str], data: bytes, timeout: float) -> object:
        calls.append(timeout)
        raise subprocess.TimeoutExpired(cmd="dot", timeout=timeout)

    monkeypatch.setattr(dot_module, "_run_in_own_group", slow_run)
    diagram = viz.draw(smallest()["E"])
    with pytest.raises(ValueError, match=r"did not finish .* in 2\.5 s.*group=\"neuron\".*timeout="):
        viz.render(diagram, "never-written.svg", timeout=2.5)
    assert calls == [2.5]
    # A display never raises: the diagram says why it is not drawn; a Value shows its summary.
    bundle = diagram._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "did not finish" in bundle["text/plain"]
    assert calls[-1] == dot_module.DISPLAY_TIMEOUT
    value_bundle = smallest()["E"]._repr_mimebundle_()
    assert list(value_bundle) == ["text/plain"]
    assert "Not drawn here: dot needs more than" in value_bundle["text/plain"]
    monkeypatch.setattr(dot_module, "_run_in_own_group", real_run)


@needs_dot
@pytest.mark.dot
def test_a_real_dot_run_is_killed_at_the_limit() -> None:
    # A chain of 400 labelled nodes laid out as a 20 x 20 grid of edges takes dot well over 0.01 s.
    source = "digraph { " + " ".join(f"a{i} -> a{j};" for i in range(20) for j in range(20, 40)) + " }"
    with pytest.raises(ValueError, match="did not finish"):
        dot_module.run_dot(source, "svg", 0.001)
    limit = r"^render\(timeout\) \(dot's time limit in seconds\) needs a finite number > 0, got 0$"
    with pytest.raises(ValueError, match=limit):
        dot_module.run_dot(source, "svg", 0)


@needs_dot
@pytest.mark.dot
@pytest.mark.parametrize(("samples", "kind"), [(60, "mse"), (100, "sum")])
def test_a_batch_loss_displays_as_a_small_layer_view_that_says_so(samples: int, kind: str) -> None:
    loss = batch_loss(samples, kind)
    bundle = loss._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert len(svg.encode()) <= display.MAX_SVG_BYTES
    width = float(re.search(r'width="([\d.]+)pt"', svg[:2000]).group(1))  # type: ignore[union-attr]
    assert width <= display.MAX_WIDTH_PT
    texts = svg_texts(svg)
    assert any(t.startswith("grouped by layer") for t in texts)
    assert bundle["text/plain"] == repr(loss)


@needs_dot
@pytest.mark.dot
def test_a_small_graph_displays_top_down_and_whole() -> None:
    g = smallest()
    svg = g["E"]._repr_mimebundle_()["image/svg+xml"]
    assert "rankdir" not in svg  # DOT attributes do not leak into the SVG
    width, height = (float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())  # type: ignore[union-attr]
    assert height > width  # top-down fits a notebook column
    assert "E" in svg_texts(svg)


def test_when_nothing_fits_the_display_is_a_text_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "MAX_SVG_BYTES", 10)
    loss = batch_loss(3, sizes=(2, 3, 1))
    loss.backward()
    if shutil.which("dot") is None:
        pytest.skip("the summary is shown after dot tried each view")
    text = loss._repr_mimebundle_()["text/plain"]
    assert text.startswith(repr(loss))
    order_size = len(trace(loss, max_nodes=None)[1])
    assert f"{order_size:,} values" in text and "grad 1" in text
    assert 'viz.draw(value, group="layer")' in text


def test_any_failure_in_the_value_display_falls_back_to_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise MemoryError("no memory left")

    monkeypatch.setattr(display, "trace", broken)
    monkeypatch.setattr(display, "have_dot", lambda: True)
    value = smallest()["E"]
    assert value._repr_mimebundle_() == {"text/plain": repr(value)}


@needs_dot
@pytest.mark.dot
def test_displays_from_many_threads_all_finish() -> None:
    results: list[dict[str, str]] = []
    values = [smallest(x=0.1 * i)["E"] for i in range(6)]
    threads = [threading.Thread(target=lambda v=v: results.append(v._repr_mimebundle_())) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all("image/svg+xml" in r for r in results)


def test_one_sample_with_many_inputs_folds_them_into_one_box() -> None:
    x = [Value(0.1 * i, label=f"x{i}") for i in range(64)]
    (y,), _ = mlp((64, 3, 1), x)
    data, _ = trace(y, max_nodes=None, group="layer")
    assert drawn_size(data)[0] == 3  # inputs, L1, L2
    source = viz.draw(y, group="layer").source
    assert "inputs (64 values)" in source and "… 61 more values" in source


class FakeClock:
    """A `time` stand-in for viz.display: `monotonic()` moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        """The fake time, in seconds."""
        return self.now


def clocked_display(monkeypatch: pytest.MonkeyPatch, trace_s: float, dot_s: float, svg: str) -> list[float]:
    """Make every trace take `trace_s` and every dot run `dot_s` fake seconds (dot answering `svg`);
    returns the list the time limits given to dot are recorded in."""
    clock = FakeClock()
    timeouts: list[float] = []
    real_trace = display.trace

    def slow_trace(*args: object, **kwargs: object) -> object:
        clock.now += trace_s
        return real_trace(*args, **kwargs)  # type: ignore[arg-type]

    def slow_dot(diagram: object, timeout: float) -> str:
        timeouts.append(timeout)
        clock.now += dot_s
        return svg

    monkeypatch.setattr(display, "time", clock)
    monkeypatch.setattr(display, "trace", slow_trace)
    monkeypatch.setattr(display, "svg_of", slow_dot)
    monkeypatch.setattr(display, "have_dot", lambda: True)
    return timeouts


def test_tracing_on_a_busy_machine_does_not_spend_dots_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 100-sample batch loss traces ~40,000 Values in Python: about 2 s on the 2-core test machine
    # and over 4 s under load, while dot lays the layer view out in 0.05 s. The picture must show.
    svg = '<svg width="100pt" height="100pt"></svg>'
    timeouts = clocked_display(monkeypatch, trace_s=2 * display.TIME_BUDGET, dot_s=0.05, svg=svg)
    loss = batch_loss(3, sizes=(2, 3, 1))
    assert loss._repr_mimebundle_() == {"image/svg+xml": svg, "text/plain": repr(loss)}
    assert timeouts == [display.TIME_BUDGET]


def test_dots_runs_together_stay_within_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    too_wide = f'<svg width="{display.MAX_WIDTH_PT + 1}pt" height="100pt"></svg>'
    timeouts = clocked_display(monkeypatch, trace_s=0.0, dot_s=0.75 * display.TIME_BUDGET, svg=too_wide)
    loss = batch_loss(3, sizes=(2, 3, 1))  # three views: every Value, by neuron, by layer
    text = loss._repr_mimebundle_()["text/plain"]
    # The second view gets what the first left; the third gets no run at all.
    assert timeouts == pytest.approx([display.TIME_BUDGET, 0.25 * display.TIME_BUDGET])
    assert f"Not drawn here: dot needs more than {display.TIME_BUDGET:g} s to lay it out." in text
