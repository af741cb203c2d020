"""viz.backward_steps and save_backward_html: the backward pass replayed one node at a time."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_viz_graphs import HOSTILE, smallest

import viz
from autograd import Value, topological_order
from viz.dot import HIGHLIGHT
from viz.labels import fmt
from viz.steps import replay

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH")

GRAD_CELL = re.compile(r'^\s*(n\d+) \[label=<.*?grad</TD><TD ALIGN="RIGHT">([^<]*)</TD>', re.M)


def grads_shown(source: str) -> dict[str, str]:
    """Node id -> the grad text its label shows."""
    return dict(GRAD_CELL.findall(source))


def highlighted(source: str) -> list[str]:
    """Ids of Value nodes drawn with the thick red outline."""
    pattern = rf'^\s*(n\d+) \[label=<<TABLE BORDER="3"[^>]*COLOR="{HIGHLIGHT}"'
    return re.findall(pattern, source, re.M)


def test_one_frame_for_the_seed_and_one_per_operation() -> None:
    g = smallest()
    frames = list(viz.backward_steps(g["E"]))
    assert len(frames) == 1 + 7
    order = topological_order(g["E"])
    index = {v: i for i, v in enumerate(order)}
    operations = [v for v in reversed(order) if v.parents]
    steps = list(replay(g["E"]))
    assert [s.node_id for s in steps] == [f"n{index[g['E']]}"] + [f"n{index[v]}" for v in operations]
    # each frame outlines exactly the node it processes
    for step in steps:
        assert highlighted(step.diagram.source) == [step.node_id]


def test_grads_fill_in_step_by_step_and_end_at_backwards_grads() -> None:
    g = smallest()
    frames = [f.source for f in viz.backward_steps(g["E"])]
    order = topological_order(g["E"])
    first = grads_shown(frames[0])
    assert first[f"n{order.index(g['E'])}"] == "1"
    assert sum(1 for v in first.values() if v != "0") == 1
    assert all(v.grad == 0.0 for v in order)  # replaying touched no Value
    g["E"].backward()
    last = grads_shown(frames[-1])
    # constants (numbers in the expression) are drawn compactly, without a grad
    assert last == {f"n{i}": fmt(v.grad) for i, v in enumerate(order) if v.label or v.parents}
    # W0's grad is known only at the last step (it is the farthest from E)
    w0 = f"n{order.index(g['W0'])}"
    assert [grads_shown(f)[w0] for f in frames].count(fmt(g["W0"].grad)) == 1


def test_processed_edges_show_their_contribution_and_glow() -> None:
    g = smallest()
    steps = list(replay(g["E"]))
    source = steps[1].diagram.source  # E = 0.5 * square: pushes to both inputs
    assert source.count(f'color="{HIGHLIGHT}"') >= 2
    assert "× g=1 → 0.5" in source
    assert "step 1/7: E (made by ×) passes its grad 1" in steps[1].caption
    assert "; 0.5 += " in steps[1].caption or ": 0.5 += " in steps[1].caption  # a number is its name
    assert "const" not in steps[1].caption
    # an unlabelled result: its short name (as in the diagram) and what it is
    assert steps[2].caption.startswith("step 2/7: v2 = (a1 − Y)² (made by x²) passes its grad 0.5")
    assert "v1 += " in steps[2].caption and "(∂ = 2 v1)" in steps[2].caption
    d = g["a1"].data - 1.0  # dE/d(a1 - Y), negative here
    assert steps[3].caption.endswith(f"Y += -1 × ({fmt(d)}) = {fmt(-d)}")


def test_existing_grads_are_left_alone() -> None:
    g = smallest()
    g["E"].backward()
    before = [v.grad for v in topological_order(g["E"])]
    list(viz.backward_steps(g["E"]))
    assert [v.grad for v in topological_order(g["E"])] == before


def test_a_leaf_root_has_only_the_seed_frame_and_big_graphs_are_refused() -> None:
    assert len(list(viz.backward_steps(Value(2.0, "x")))) == 1
    y = Value(1.0, "x")
    for _ in range(100):
        y = y + 1.0
    with pytest.raises(ValueError, match="max_nodes"):
        list(viz.backward_steps(y))
    with pytest.raises(TypeError, match="Value"):
        list(viz.backward_steps(3.0))


class Tags(HTMLParser):
    """Collects start tags and their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def hostile_network() -> Value:
    """The smallest network with every hostile label on some node."""
    g = smallest()
    names = ["X", "W0", "Z0", "a0", "W1", "Z1", "a1", "Y", "E"]
    for name, label in zip(names, HOSTILE):
        g[name].label = label
    return g["E"]


@needs_dot
@pytest.mark.dot
def test_html_page_is_self_contained_with_one_frame_per_step(tmp_path: Path) -> None:
    g = smallest()
    path = viz.save_backward_html(g["E"], tmp_path / "steps.html")
    page = Path(path).read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(page)
    frames = [a for t, a in parser.tags if t == "section"]
    assert len(frames) == 8
    assert [a["data-step"] for a in frames] == [str(i) for i in range(8)]
    assert sum(1 for a in frames if "hidden" not in a) == 1
    assert {t for t, _ in parser.tags} >= {"svg", "button", "input", "script", "main"}
    assert [t for t, _ in parser.tags].count("svg") == 8
    assert not [t for t, a in parser.tags if "src" in a or (t == "link")]
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert "Content-Security-Policy" in page
    assert fmt(g["a0"].data) in page
    assert [p.name for p in tmp_path.iterdir()] == ["steps.html"]  # no temporary files left


@needs_dot
@pytest.mark.dot
def test_html_page_escapes_hostile_labels(tmp_path: Path) -> None:
    page = Path(viz.save_backward_html(hostile_network(), tmp_path / "h.html")).read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert tags.count("script") == 1 and "img" not in tags and "b" not in tags
    assert not [k for _, a in parser.tags for k in a if k.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_without_dot_the_page_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="apt-get install graphviz") as error:
        viz.save_backward_html(smallest()["E"], tmp_path / "steps.html")
    assert not (tmp_path / "steps.html").exists()
    # The advice fits the call: there is no `diagram` here; the steps' DOT text and explain are.
    message = str(error.value)
    assert "diagram.source" not in message
    assert "backward-steps page" in message and "viz.backward_steps(root)[k].source" in message
    assert "viz.explain(root, leaf)" in message
    steps = viz.backward_steps(smallest()["E"])  # what the advice names works without dot
    assert "digraph" in steps[3].source


def fills(source: str) -> dict[str, str]:
    """Value label -> the background colour its table is drawn on."""
    table = r'BGCOLOR="(#\w+)"[^>]*><TR><TD COLSPAN="2"><B>([^<]+)</B>'
    return {name: fill for fill, name in re.findall(table, source)}


def test_params_colour_the_weights_in_every_step_as_draw_does(tmp_path: Path) -> None:
    from viz.dot import COLOURS
    from viz.trace import INPUT, PARAMETER

    g = smallest()
    plain = viz.backward_steps(g["E"])
    weights = viz.backward_steps(g["E"], params=[g["W0"], g["W1"]])
    assert fills(plain[0].source)["W0"] == COLOURS[INPUT][0]  # a labelled leaf is data unless told
    for step in weights:
        shown = fills(step.source)
        assert shown["W0"] == shown["W1"] == COLOURS[PARAMETER][0]
        assert shown["X"] == COLOURS[INPUT][0]
    drawn = fills(viz.draw(g["E"], params=[g["W0"], g["W1"]]).source)
    assert drawn["W0"] == fills(weights[-1].source)["W0"]
    with pytest.raises(ValueError, match="params"):
        viz.backward_steps(g["E"], params=[Value(1.0)])  # not in the graph
    with pytest.raises(TypeError, match=r"save_backward_html\(params=...\)"):
        viz.save_backward_html(g["E"], tmp_path / "s.html", params=3)  # type: ignore[arg-type]
    assert not (tmp_path / "s.html").exists()


@needs_dot
@pytest.mark.dot
def test_the_page_draws_params_as_parameters(tmp_path: Path) -> None:
    from viz.dot import COLOURS
    from viz.trace import PARAMETER

    g = smallest()
    page = Path(viz.save_backward_html(g["E"], tmp_path / "s.html", params=[g["W0"]])).read_text("utf-8")
    assert page.count(f'fill="{COLOURS[PARAMETER][0]}"') == 8  # W0 in each of the 8 frames


def test_backward_steps_is_a_list_with_a_readable_repr() -> None:
    g = smallest()
    steps = viz.backward_steps(g["E"])
    assert isinstance(steps, list) and len(steps) == 8
    assert steps[0].source == next(iter(viz.backward_steps(g["E"]))).source
    text = repr(steps)
    assert text.startswith("<8 backward steps of E: step 0/7: seed dE/dE = 1")
    assert "save_backward_html" in text and "generator" not in text and len(text) < 600


def test_the_size_error_of_the_steps_suggests_only_what_they_accept(tmp_path: Path) -> None:
    y = Value(1.0, "x")
    for _ in range(100):
        y = y + 1.0
    for call in (
        lambda: viz.save_backward_html(y, tmp_path / "steps.html"),
        lambda: viz.backward_steps(y),
    ):
        with pytest.raises(ValueError, match="max_nodes") as error:
            call()
        message = str(error.value)
        assert "Pass group=" not in message and "viz.draw(root, group=" in message
    assert not (tmp_path / "steps.html").exists()


@needs_dot
@pytest.mark.dot
def test_steps_play_inline_in_a_self_contained_iframe() -> None:
    pages = []
    for x in (1.5, -2.0):  # two players in one notebook
        shown = viz.backward_steps(smallest(x=x)["E"])._repr_html_()
        parser = Tags()
        parser.feed(shown)
        # Exactly one element, an iframe: the page's ids, CSS and key handler live inside it.
        assert [tag for tag, _ in parser.tags] == ["iframe"]
        attrs = parser.tags[0][1]
        assert attrs["sandbox"] == "allow-scripts"
        page = attrs["srcdoc"]  # HTMLParser unescapes the attribute: the page as the browser reads it
        assert page is not None and page.startswith("<!DOCTYPE html>") and 'id="stage"' in page
        assert "<style>" not in shown and "<script>" not in shown  # nothing outside the frame
        pages.append(page)
    assert pages[0] != pages[1]


@needs_dot
@pytest.mark.dot
def test_an_inline_player_that_takes_too_long_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import viz.steps as steps_module

    monkeypatch.setattr(steps_module, "DISPLAY_TIMEOUT", 0.0)
    shown = viz.backward_steps(smallest()["E"])._repr_html_()
    assert shown.startswith("<pre>&lt;8 backward steps of E") and "save_backward_html" in shown


@needs_dot
@pytest.mark.dot
def test_each_step_diagram_fits_a_screen_with_its_caption_wrapped() -> None:
    from viz.dot import POSTER_PX, picture_width_px, svg_of

    g = smallest()
    steps = viz.backward_steps(g["E"], params=[g["W0"], g["W1"]])
    for k, diagram in enumerate(steps):
        width = picture_width_px(svg_of(diagram).encode(), "svg")
        assert width is not None and width <= POSTER_PX / 2, f"step {k}: {width:.0f} px"
    assert "passes its grad" in steps.captions[3] and "\n" not in steps.captions[3]  # the text is whole
