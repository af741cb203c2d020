"""viz.draw: DOT source (no binary needed) and, marked `dot`, real rendering with Graphviz."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import graphviz
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_viz_graphs import HOSTILE, mlp_loss, smallest

import viz
import viz.dot as dot_module
from autograd import Value
from viz.dot import COLOURS, HIGHLIGHT
from viz.labels import fmt
from viz.trace import INPUT, PARAMETER, ROOT

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' binary is not on PATH")

VALUE_NODE = re.compile(r"^\s*(n\d+) \[label=<", re.M)
OP_NODE = re.compile(r"^\s*(n\d+)_op \[", re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+)", re.M)


def node_line(source: str, node_id: str) -> str:
    """The DOT line declaring `node_id`."""
    return next(line for line in source.splitlines() if line.strip().startswith(f"{node_id} [label="))


def svg_texts(svg: str) -> list[str]:
    """Every <text> element's content in an SVG (which must be well-formed XML)."""
    root = ET.fromstring(svg)  # noqa: S314 (dot's own output, parsed to prove it is well-formed)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_draw_has_a_node_per_value_an_op_node_per_operation_and_labelled_edges() -> None:
    g = smallest()
    source = viz.draw(g["E"]).source
    assert len(VALUE_NODE.findall(source)) == 12
    assert len(OP_NODE.findall(source)) == 7
    edges = EDGE.findall(source)
    # Top to bottom, each input edge runs through a node holding its label: two edges per input.
    assert len(edges) == 2 * 11 + 7
    assert sum(1 for line in source.splitlines() if "_d" in line and "label=<∂ = " in line) == 11
    wide = viz.draw(g["E"], rankdir="LR").source  # left to right, dot places labels itself
    assert len(EDGE.findall(wide)) == 11 + 7
    assert sum(1 for line in wide.splitlines() if "->" in line and "label=<∂ = " in line) == 11
    assert isinstance(viz.draw(g["E"]), graphviz.Digraph)


def test_labels_carry_data_grad_and_local_derivatives_before_backward() -> None:
    g = smallest()
    source = viz.draw(g["E"]).source
    a0 = g["a0"]
    assert f'data</TD><TD ALIGN="RIGHT">{fmt(a0.data)}' in source
    # d a1 / d Z1 = a1 (1 - a1), on the edge Z1 -> sigmoid
    a1 = g["a1"].data
    assert f"∂ = σ(Z1)(1 − σ(Z1)) = {fmt(a1 * (1 - a1))}" in source  # the rule, then its number
    assert f"∂={fmt(a1 * (1 - a1))}" in viz.draw(g["E"], rules=False).source
    assert "g=" not in source  # no chain-rule products before backward
    assert "Σ" not in source and "×" in source and "x²" in source and "σ" in source


def test_after_backward_each_edge_shows_local_times_grad_and_the_contribution() -> None:
    g = smallest()
    g["E"].backward()
    source = viz.draw(g["E"]).source
    w0, z0 = g["W0"], g["Z0"]
    x = g["X"].data
    # edge W0 -> (X*W0): local dZ0/dW0 = X, times Z0.grad, contributes W0.grad
    assert f"∂ = X = {fmt(x)}<BR/>× g={fmt(z0.grad)} → {fmt(w0.grad)}" in source
    assert f'grad</TD><TD ALIGN="RIGHT">{fmt(w0.grad)}' in source


def test_colours_by_kind_and_the_legend() -> None:
    g = smallest()
    source = viz.draw(g["E"]).source
    ids = {label: m for m, label in re.findall(r"^\s*(n\d+) \[label=<.*?<B>(\w+)</B>", source, re.M)}
    assert f'BGCOLOR="{COLOURS[INPUT][0]}"' in node_line(source, ids["X"])
    assert f'BGCOLOR="{COLOURS[INPUT][0]}"' in node_line(source, ids["W0"])  # never from its label
    chosen = viz.draw(g["E"], params=[g["W0"]]).source
    assert f'BGCOLOR="{COLOURS[PARAMETER][0]}"' in node_line(chosen, ids["W0"])
    assert f'BGCOLOR="{COLOURS[ROOT][0]}"' in node_line(source, ids["E"])
    assert "cluster_legend" not in source
    assert "cluster_legend" in viz.draw(g["E"], legend=True).source


def test_highlight_marks_the_node_in_red() -> None:
    g = smallest()
    source = viz.draw(g["E"], highlight=g["a0"]).source
    marked = [line for line in source.splitlines() if f'COLOR="{HIGHLIGHT}"' in line]
    assert len(marked) == 1 and "<B>a0</B>" in marked[0]
    with pytest.raises(ValueError, match="not part of the drawn graph"):
        viz.draw(g["E"], highlight=Value(1.0))


def test_local_grads_false_leaves_edges_unlabelled() -> None:
    assert "∂" not in viz.draw(smallest()["E"], local_grads=False).source


def test_draw_accepts_an_object_with_a_root_value() -> None:
    g = smallest()
    tape = SimpleNamespace(root=g["E"])
    assert viz.draw(tape).source == viz.draw(g["E"]).source
    with pytest.raises(TypeError, match="needs an autograd Value"):
        viz.draw(object())


def test_grouped_mlp_has_one_box_per_neuron_in_one_cluster_per_layer() -> None:
    loss, params = mlp_loss((2, 3, 3, 1))
    loss.backward()
    source = viz.draw(loss, group="neuron").source
    assert len(re.findall(r"^\s*box\d+ \[label=<", source, re.M)) == 7
    assert len(re.findall(r"subgraph cluster_layer\d", source)) == 3
    assert "layer L1" in source and "layer L3" in source
    assert "Σ wx+b → tanh" in source
    for p in params:  # every parameter listed with its data and grad
        assert f'<TD BGCOLOR="{COLOURS[PARAMETER][0]}">{fmt(p.data)}</TD>' in source
        assert f"grad {fmt(p.grad)}" in source
    # x0, x1 and the loss part are drawn as usual; no weighted-sum op node survives
    assert "<B>x0</B>" in source and "<B>loss</B>" in source
    assert not re.search(r"_op \[label=<Σ", source)
    layer = viz.draw(loss, group="layer").source
    assert len(re.findall(r"^\s*box\d+ \[label=<", layer, re.M)) == 3
    assert ">n2.w1</TD>" in layer


def test_grouped_rows_keep_neuron_order_and_default_to_top_down() -> None:
    loss, _ = mlp_loss((2, 4, 1))
    source = viz.draw(loss, group="neuron").source
    assert "rankdir=TB" in source and "remincross=false" in source
    boxes = re.findall(r"^\s*(box\d+) \[label=<.*?<B>([^<]*)</B>", source, re.M)
    assert [name for _, name in boxes] == ["L1.n0", "L1.n1", "L1.n2", "L1.n3", "L2.n0"]
    assert "box0 -> box1 [style=invis]" in source and "box2 -> box3 [style=invis]" in source
    assert "rankdir=TB" in viz.draw(loss, group="layer").source
    assert "rankdir=TB" in viz.draw(loss).source
    assert "rankdir=LR" in viz.draw(loss, rankdir="LR").source
    assert "rankdir=BT" in viz.draw(loss, group="neuron", rankdir="BT").source


def test_draw_refuses_huge_graphs_unless_grouped() -> None:
    loss, _ = mlp_loss((2, 8, 8, 1))
    with pytest.raises(ValueError, match=r'group="neuron" or group="layer"'):
        viz.draw(loss, max_nodes=50)
    assert "box" in viz.draw(loss, max_nodes=50, group="neuron").source


def test_a_long_chain_is_refused_quickly() -> None:
    y = Value(1.0, "x")
    for _ in range(100_000):
        y = y + 1.0
    with pytest.raises(ValueError, match=r"more than 5,000 nodes \(max_nodes=500\)"):
        viz.draw(y)  # counted up to 10 x max_nodes, never all 200,001


def test_bad_rankdir() -> None:
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(Value(1.0), rankdir="up")


def test_hostile_labels_stay_inside_their_label_in_the_dot_source() -> None:
    values = [Value(float(i + 1), label) for i, label in enumerate(HOSTILE)]
    out = values[0]
    for v in values[1:]:
        out = out + v
    out.label = HOSTILE[6]
    source = viz.draw(out, legend=True).source
    assert "evil [" not in source.replace("&quot;&#93;; evil [label=&quot;x", "")
    assert "<script>" not in source and "<img" not in source
    assert "two\\nlines" in source  # the newline is shown, not obeyed


@needs_dot
@pytest.mark.dot
def test_hostile_labels_render_as_text(tmp_path: Path) -> None:
    values = [Value(float(i + 1), label) for i, label in enumerate(HOSTILE)]
    out = values[0]
    for v in values[1:]:
        out = out * 0.5 + v
    out.label = HOSTILE[6]
    out.backward()
    svg = viz.render(viz.draw(out), tmp_path / "hostile.svg")
    text = Path(svg).read_text(encoding="utf-8")
    texts = svg_texts(text)
    for label in HOSTILE:
        assert label.replace("\n", "\\n") in texts
    root = ET.fromstring(text)  # noqa: S314 (dot's own output)
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "foreignObject", "image")]


@needs_dot
@pytest.mark.dot
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=12), min_size=1, max_size=3))
@example(["]"])  # dot's HTML lexer rejected a text of only "]" characters (found by this test)
@example(["]]", "[", "]]>"])
def test_any_label_renders_and_reads_back(labels: list[str]) -> None:
    values = [Value(1.0, label) for label in labels]
    out = values[0]
    for v in values[1:]:
        out = out + v
    texts = [" ".join(t.split()) for t in svg_texts(viz.draw(out).pipe(format="svg", encoding="utf-8"))]
    for label in labels:
        shown = " ".join(label.replace("\n", "\\n").split())
        if label.isprintable():  # printable text comes back exactly (up to whitespace runs)
            assert any(shown in t for t in texts), (label, texts)


@needs_dot
@pytest.mark.dot
def test_render_svg_and_png_with_numbers(tmp_path: Path) -> None:
    g = smallest()
    g["E"].backward()
    diagram = viz.draw(g["E"], legend=True)
    svg_path = viz.render(diagram, tmp_path / "new" / "E.svg", format="svg")  # creates the folder
    texts = svg_texts(Path(svg_path).read_text(encoding="utf-8"))
    assert fmt(g["W0"].grad) in texts and fmt(g["a0"].data) in texts and "E" in texts
    png = Path(viz.render(diagram, tmp_path / "E.png", format="png")).read_bytes()
    assert png.startswith(b"\x89PNG")
    # graphviz's own API, as the docstring shows it
    out = diagram.render("E2", directory=tmp_path, format="svg", cleanup=True)
    assert Path(out).read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert not (tmp_path / "E2").exists()  # cleanup removed the DOT file
    with pytest.raises(ValueError, match=r"ends in \.pdf but format='png'"):
        viz.render(diagram, tmp_path / "E.pdf", format="png")
    assert not (tmp_path / "E.pdf").exists()


@needs_dot
@pytest.mark.dot
@pytest.mark.parametrize(
    ("name", "signatures"),
    [
        ("d.png", (b"\x89PNG",)),
        ("d.PNG", (b"\x89PNG",)),
        ("d.svg", (b"<?xml", b"<svg")),
        ("d.pdf", (b"%PDF",)),
        ("d.jpg", (b"\xff\xd8\xff",)),
        ("d.jpeg", (b"\xff\xd8\xff",)),
        ("d", (b"<?xml", b"<svg")),  # no extension: SVG, at exactly that path
    ],
)
def test_render_takes_the_format_from_the_extension(
    tmp_path: Path, name: str, signatures: tuple[bytes]
) -> None:
    written = Path(viz.render(viz.draw(smallest()["E"]), tmp_path / name))
    assert written == tmp_path / name
    assert written.read_bytes().lstrip().startswith(signatures)


def test_render_refuses_a_format_that_disagrees_or_is_unknown(tmp_path: Path) -> None:
    diagram = viz.draw(smallest()["E"])
    with pytest.raises(ValueError, match=r"ends in \.png but format='svg'"):
        viz.render(diagram, tmp_path / "d.png", format="svg")
    with pytest.raises(ValueError, match="cannot tell the format"):
        viz.render(diagram, tmp_path / "d.diagram")
    with pytest.raises(ValueError, match="must be one of"):
        viz.render(diagram, tmp_path / "d", format="exe")
    assert list(tmp_path.iterdir()) == []


@needs_dot
@pytest.mark.dot
def test_jupyter_shows_a_value_and_a_diagram_as_svg() -> None:
    g = smallest()
    bundle = g["E"]._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") or "<svg" in bundle["image/svg+xml"]
    assert bundle["text/plain"] == repr(g["E"])
    assert "image/svg+xml" in viz.draw(g["E"])._repr_mimebundle_()
    # Too big to draw flat, and 16 neurons side by side are wider than a notebook column: Jupyter
    # falls back to one box per layer and says so in the caption.
    loss, _ = mlp_loss((2, 16, 16, 1))
    texts = svg_texts(loss._repr_mimebundle_()["image/svg+xml"])
    assert any(t.startswith("grouped by layer") for t in texts)
    assert "L2" in texts


def test_without_dot_rendering_says_how_to_install_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot
    g = smallest()
    diagram = viz.draw(g["E"])
    assert diagram.source.startswith("digraph")
    with pytest.raises(RuntimeError, match=r"apt-get install graphviz.*brew install graphviz"):
        viz.render(diagram, tmp_path / "E.svg")
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        diagram.render("E", directory=tmp_path, format="svg")
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        diagram.pipe(format="svg")
    assert not (tmp_path / "E.svg").exists()
    assert g["E"]._repr_mimebundle_() == {"text/plain": repr(g["E"])}


def test_a_compiled_tape_draws_as_the_graph_it_came_from() -> None:
    """viz.draw(tape) draws tape.root, so the replayed graph looks like the scalar one."""
    from autograd import compile

    x, w = Value(0.5, "x"), Value(-1.5, "w0")
    root = (x * w).sigmoid()
    tape = compile(root, [x], [w])
    assert viz.draw(tape).source == viz.draw(root).source
    with pytest.raises(TypeError):
        viz.draw(object())


@needs_dot
@pytest.mark.dot
def test_labels_dot_cannot_take_render_and_long_ones_are_cut_visibly(tmp_path: Path) -> None:
    long = "L" * 20_000
    values = [Value(1.0, "\ud800"), Value(2.0, "a\ufffeb\uffff"), Value(3.0, long), Value(4.0, "\x00\x1f")]
    out = values[0] + values[1] + values[2] + values[3]
    out.label = "é" * 17_000  # more than 16,384 characters and more bytes still
    out.backward()
    svg = Path(viz.render(viz.draw(out), tmp_path / "odd.svg")).read_text(encoding="utf-8")
    texts = svg_texts(svg)
    assert "\\ud800" in texts and "a\\ufffeb\\uffff" in texts and "\\x00\\x1f" in texts
    assert "L" * 119 + "…" in texts and long not in svg.replace("\n", "")
    root = ET.fromstring(svg)  # noqa: S314 (dot's own output)
    xlink_title = "{http://www.w3.org/1999/xlink}title"
    titles = [e.get(xlink_title, "") for e in root.iter()]
    assert any(t.startswith("L" * 1000) for t in titles)  # the tooltip keeps (most of) the full text
    # Four 120-character labels side by side are wider than a notebook column: the display says so.
    bundle = out._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "too large for a notebook output" in bundle["text/plain"]


def laid_out(source: str) -> dict[str, tuple[float, float, float, float]]:
    """Node name -> (x, y, width, height) in inches as dot lays it out (its "plain" output)."""
    plain = dot_module.run_dot(source, "plain", 30).decode("utf-8")
    nodes = {}
    for line in plain.splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            nodes[parts[1].strip('"')] = (float(parts[2]), float(parts[3]), float(parts[4]), float(parts[5]))
    return nodes


@needs_dot
@pytest.mark.dot
def test_top_to_bottom_each_label_sits_on_its_own_edge() -> None:
    g = smallest()
    g["E"].backward()
    source = viz.draw(g["E"]).source
    ids = {label: m for m, label in re.findall(r"^\s*(n\d+) \[label=<.*?<B>([^<]+)</B>", source, re.M)}
    at = laid_out(source)
    labels = [name for name in at if re.fullmatch(r"n\d+_op_d\d+", name)]
    assert len(labels) == 11
    for label in labels:
        op = label.rsplit("_", 1)[0]
        (tail,) = re.findall(rf"^\s*(\w+) -> {label}\b", source, re.M)
        assert re.search(rf"^\s*{label} -> {op}\b", source, re.M)
        x, y, width, _ = at[label]
        # Between its input and its operation, and straddling the line from one to the other.
        assert at[op][1] < y < at[tail][1], label
        low, high = sorted((at[tail][0], at[op][0]))
        assert x - width / 2 <= high and x + width / 2 >= low, label
    # The multiplication a0 * W1: a0's label on a0's side, W1's on W1's (the complaint).
    z1_op = f"{ids['Z1']}_op"
    a0_label, w1_label = at[f"{z1_op}_d0"], at[f"{z1_op}_d1"]
    assert (a0_label[0] < w1_label[0]) == (at[ids["a0"]][0] < at[ids["W1"]][0])
    a0_text = re.search(rf"^\s*{z1_op}_d0 \[label=<([^>]*)", source, re.M).group(1)  # type: ignore[union-attr]
    assert a0_text.startswith("∂ = W1 = ")  # d Z1/d a0 = W1, on a0's edge


@needs_dot
@pytest.mark.dot
def test_a_picture_wider_than_a_screen_says_it_is_a_poster_and_names_a_readable_view(tmp_path: Path) -> None:
    g = smallest()
    g["E"].backward()
    wide = viz.draw(g["E"], rankdir="LR", legend=True)
    svg = Path(viz.render(wide, tmp_path / "wide.svg")).read_text(encoding="utf-8")
    width = dot_module.picture_width_px(svg.encode(), "svg")
    assert width is not None and width > dot_module.POSTER_PX
    texts = " ".join(svg_texts(svg))
    assert f"A poster: {width:,.0f} px wide" in texts and "viz.draw(root), top to bottom" in texts
    png = Path(viz.render(wide, tmp_path / "wide.png")).read_bytes()
    assert dot_module.picture_width_px(png, "png") > dot_module.POSTER_PX  # type: ignore[operator]
    assert "poster" not in wide.source  # the diagram itself is left as drawn
    shown = wide._repr_mimebundle_()["image/svg+xml"]
    assert "A poster: " in " ".join(svg_texts(shown))
    # The same graph top to bottom fits the screen and is no poster.
    narrow = Path(viz.render(viz.draw(g["E"], legend=True), tmp_path / "narrow.svg")).read_text("utf-8")
    assert dot_module.picture_width_px(narrow.encode(), "svg") <= dot_module.POSTER_PX  # type: ignore[operator]
    assert "poster" not in narrow
    # A hand-made graph is never relabelled.
    plain = graphviz.Digraph()
    plain.edges([(f"a{i}", f"a{i + 1}") for i in range(60)])
    plain.attr(rankdir="LR")
    assert "poster" not in dot_module.laid_out(plain, "svg").decode()


@needs_dot
@pytest.mark.dot
def test_a_poster_s_two_dot_runs_share_one_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A picture redrawn as a poster runs dot twice: the second run gets only the time left."""
    g = smallest()
    wide = viz.draw(g["E"], rankdir="LR", legend=True)
    limits: list[float] = []
    real = dot_module.run_dot

    def timed(source: str, format: str, timeout: float) -> bytes:
        limits.append(timeout)
        return real(source, format, timeout)

    monkeypatch.setattr(dot_module, "run_dot", timed)
    dot_module.laid_out(wide, "svg", 30.0)
    assert len(limits) == 2 and limits[0] == 30.0 and 0 < limits[1] < 30.0
