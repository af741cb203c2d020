"""A Value's Jupyter display is bounded at any graph size: a huge graph is known to be too large
after a walk over a bounded part of it, never traced whole; the groupings share one trace.

Counted, never timed: a patched `Value.parents` counts the Values the display's walk expands,
and the engine's full walk (`topological_order`) is made to fail. (Seconds before and after are
in the branch report; a timed test would fail on a busy machine.)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from test_viz_display import batch_loss, clocked_display
from test_viz_graphs import smallest

import viz.display as display
from autograd import Value
from viz.trace import graph_size, trace

trace_module = importlib.import_module("viz.trace")  # `viz.trace` is also the function viz exports


def chain(n: int) -> Value:
    """y = y + 1.0, n times: a graph of 2n + 1 Values (each step adds its constant)."""
    y = Value(0.0, "x")
    for _ in range(n):
        y = y + 1.0
    return y


@pytest.fixture(scope="module")
def long_chain() -> Iterator[Value]:
    """A 300,000-step chain (600,001 Values), built once for this module."""
    yield chain(300_000)


class Walks:
    """How many Values had their parents read, and the full walks attempted."""

    def __init__(self) -> None:
        self.expanded = 0
        self.full_walks = 0


def count_walks(monkeypatch: pytest.MonkeyPatch) -> Walks:
    """Count every read of `Value.parents` and refuse the engine's full walk, in viz and autograd."""
    walks = Walks()
    parents = Value.parents

    def counted(self: Value) -> tuple[Value, ...]:
        walks.expanded += 1
        return parents.__get__(self)  # type: ignore[no-any-return]

    def no_full_walk(root: Value) -> list[Value]:
        walks.full_walks += 1
        raise AssertionError("the whole graph was walked")

    monkeypatch.setattr(Value, "parents", property(counted))
    monkeypatch.setattr(trace_module, "topological_order", no_full_walk)
    if hasattr(display, "topological_order"):
        monkeypatch.setattr(display, "topological_order", no_full_walk)
    return walks


def test_a_huge_chain_displays_as_text_naming_it_too_large_without_a_full_walk(
    monkeypatch: pytest.MonkeyPatch, long_chain: Value
) -> None:
    def no_dot(*args: object, **kwargs: object) -> str:
        raise AssertionError("no view of a 600,001-Value graph should reach dot")

    monkeypatch.setattr(display, "have_dot", lambda: True)
    monkeypatch.setattr(display, "svg_of", no_dot)
    walks = count_walks(monkeypatch)
    bundle = long_chain._repr_mimebundle_()
    assert walks.full_walks == 0
    assert walks.expanded <= display.GROUPED_VALUES  # a bounded part of the 600,001
    assert list(bundle) == ["text/plain"]
    text = bundle["text/plain"]
    assert text.startswith(repr(long_chain))
    limit = f"{display.GROUPED_VALUES:,}"
    assert f"its graph has more than {limit} values." in text
    assert "Not drawn here: it is too large to draw, or to group by scope, in a notebook output." in text
    assert "viz.explain(value, leaf)" in text  # no scope met: grouping is not what to try


def test_drawing_a_huge_chain_is_refused_after_counting_ten_times_the_cap(
    monkeypatch: pytest.MonkeyPatch, long_chain: Value
) -> None:
    walks = count_walks(monkeypatch)
    refused = r"^this graph has more than 200 nodes \(max_nodes=20\): .*group=\"neuron\""
    with pytest.raises(ValueError, match=refused):
        trace(long_chain, max_nodes=20)
    assert walks.full_walks == 0 and walks.expanded <= 200


def test_graph_size_counts_what_the_engine_walks_and_stops_at_its_limit() -> None:
    g = smallest()
    a = Value(2.0, "a")
    square = a * a  # two edges to one parent
    diamond = (square + a) * (square - 1.0)
    for root in (g["E"], square, diamond, batch_loss(2, sizes=(2, 3, 1)), Value(1.0)):
        order = trace(root, max_nodes=None)[1]
        size = graph_size(root, len(order))
        assert size.complete and size.values == len(order)
        assert size.edges == sum(len(v.parents) for v in order)
        assert size.scoped == any(v.scope for v in order)
        stopped = graph_size(root, len(order) - 1) if len(order) > 1 else None
        if stopped is not None:
            assert not stopped.complete and stopped.values == len(order) - 1
            assert str(stopped) == f"more than {len(order) - 1:,} values"
    assert str(graph_size(g["E"], 100)) == "12 values and 11 edges"


def test_graph_size_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"^graph_size\(root\) needs an autograd Value, got 1\.5$"):
        graph_size(1.5, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^graph_size\(limit\) needs an int >= 1, got 0$"):
        graph_size(Value(1.0), 0)
    with pytest.raises(TypeError, match=r"^graph_size\(limit\) needs an int >= 1, got bool True$"):
        graph_size(Value(1.0), True)


def test_graph_size_names_an_object_that_is_not_a_value_like_the_engine() -> None:
    x, y = Value(2.0, "x"), Value(3.0, "y")
    inner = x * y
    root = inner + y
    inner._a = 2.5  # type: ignore[assignment]  # a parent replaced by hand
    with pytest.raises(TypeError, match=r"the graph holds a float, not a Value \(2\.5\)"):
        graph_size(root, 100)


def test_the_grouped_trace_is_not_started_once_the_time_budget_is_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The flat view takes the whole budget (a busy machine) and is too wide: the grouped views,
    # whose trace grows with the graph, are not started; the text says why.
    too_wide = f'<svg width="{display.MAX_WIDTH_PT + 1}pt" height="100pt"></svg>'
    timeouts = clocked_display(monkeypatch, trace_s=display.TIME_BUDGET + 1, dot_s=0.05, svg=too_wide)
    traced: list[object] = []
    slow_trace = display.trace

    def counted_trace(*args: object, **kwargs: object) -> object:
        traced.append(kwargs.get("max_nodes"))
        return slow_trace(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(display, "trace", counted_trace)
    loss = batch_loss(3, sizes=(2, 3, 1))
    text = loss._repr_mimebundle_()["text/plain"]
    assert traced == [display.FLAT_NODES] and timeouts == [display.TIME_BUDGET]
    assert f"Not drawn here: tracing it for a grouped view would go past {display.TIME_BUDGET:g} s." in text


def test_both_groupings_share_one_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    too_wide = f'<svg width="{display.MAX_WIDTH_PT + 1}pt" height="100pt"></svg>'
    timeouts = clocked_display(monkeypatch, trace_s=0.0, dot_s=0.05, svg=too_wide)
    traced: list[object] = []
    real_trace = display.trace

    def counted_trace(*args: object, **kwargs: object) -> object:
        traced.append((kwargs.get("max_nodes"), kwargs.get("group")))
        return real_trace(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(display, "trace", counted_trace)
    loss = batch_loss(3, sizes=(2, 3, 1))
    text = loss._repr_mimebundle_()["text/plain"]
    assert len(timeouts) == 3  # every Value, by neuron, by layer: each laid out by dot
    assert traced == [(display.FLAT_NODES, None), (None, None)]
    assert "Not drawn here: every view of it is too large for a notebook output." in text


def test_a_graph_without_scopes_too_large_to_draw_flat_says_so_without_a_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(display, "have_dot", lambda: True)
    walks = count_walks(monkeypatch)
    y = chain(100)  # 201 Values, none in a scope
    text = y._repr_mimebundle_()["text/plain"]
    assert walks.full_walks == 0 and walks.expanded == 201
    assert "its graph has 201 values and 200 edges." in text
    assert "201 values are too many to draw one by one here (at most 150)" in text


@pytest.mark.parametrize("bad", [0, -1, 10.0, True])
def test_a_bad_max_nodes_is_named_as_the_learner_passed_it(bad: object) -> None:
    y = Value(1.0) + 2.0
    with pytest.raises((TypeError, ValueError), match=rf"^max_nodes needs an int >= 1, got .*{bad!r}"):
        trace(y, max_nodes=bad)  # type: ignore[arg-type]


def test_an_unhashable_object_among_the_parents_gets_the_engines_message() -> None:
    inner = Value(1.0) + 2.0
    outer = inner * 3.0
    inner._a = [2.5]  # put in by hand
    with pytest.raises(TypeError, match="the graph holds a list, not a Value"):
        graph_size(outer, 100)
