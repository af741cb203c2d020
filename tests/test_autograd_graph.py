"""Graph traversal: topological order, the chain-rule loop, repeated backward, deep chains, freeing."""

from __future__ import annotations

import gc
import math
import tracemalloc
import weakref

import pytest

from autograd import Value, accumulate, accumulating, backward, topological_order, weighted_sum


def ancestors(root: Value) -> set[int]:
    """ids of every node root depends on, by a plain breadth-first walk over .parents."""
    seen = {id(root)}
    frontier = [root]
    while frontier:
        nxt = []
        for node in frontier:
            for p in node.parents:
                if id(p) not in seen:
                    seen.add(id(p))
                    nxt.append(p)
        frontier = nxt
    return seen


def assert_topological(order: list[Value], root: Value) -> None:
    """Each ancestor exactly once, every node after all of its parents, root last, leaves first."""
    position = {id(v): i for i, v in enumerate(order)}
    assert len(position) == len(order), "a node appears twice"
    assert set(position) == ancestors(root)
    assert order[-1] is root
    assert order[0].parents == ()
    for i, node in enumerate(order):
        for p in node.parents:
            assert position[id(p)] < i


def diamond() -> tuple[list[Value], Value]:
    """x -> (a = x*2, b = x.tanh()) -> c = a*b -> d = c + a: x reached along three paths."""
    x = Value(0.7, label="x")
    a = x * 2
    a.label = "a"
    b = x.tanh()
    b.label = "b"
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    return [x, a, b, c], d


# ---------------------------------------------------------------- topological_order


def test_order_of_reuse_a_plus_a() -> None:
    """a + a: a once, then the sum."""
    a = Value(1.0)
    s = a + a
    assert topological_order(s) == [a, s]


def test_order_of_a_leaf() -> None:
    """A leaf's order is just itself."""
    a = Value(1.0)
    assert topological_order(a) == [a]


def test_order_of_diamond() -> None:
    """Diamond: every node once, parents first, and the exact stable order (argument order DFS)."""
    (x, a, b, c), d = diamond()
    order = topological_order(d)
    assert_topological(order, d)
    two_const = d.parents[0].parents[0].parents[1]
    assert order == [x, two_const, a, b, c, d]


def test_order_follows_arguments_depth_first() -> None:
    """Values made in the order c, a, b: the order follows the arguments, first argument first."""
    c = Value(1.0, label="c")
    a = Value(2.0, label="a")
    b = Value(3.0, label="b")
    right = b * c  # made before left, but the second argument below
    left = a + c
    out = left * right
    order = topological_order(out)
    assert order == [a, c, left, b, right, out]
    assert_topological(order, out)


def test_backward_through_zero_grad_nodes_matches_closed_form() -> None:
    """A dead ReLU and a zero weight pass no gradient (skipped); a shared leaf still gets its other paths."""
    x, w, v = Value(-2.0, label="x"), Value(0.0, label="w"), Value(3.0, label="v")
    dead = (x * v).relu()  # x*v = -6 < 0: relu' = 0, so dead.grad flows nowhere
    zero_path = w * (x * x)  # d/d(x*x) = w = 0: that node's grad is 0
    out = dead * 5.0 + zero_path + v * x + w
    out.backward()
    # d out/dx = 5*relu'(-6)*v + w*2x + v = 0 + 0 + 3; d/dv = 5*0*x + x = -2; d/dw = x*x + 1 = 5
    assert (x.grad, v.grad, w.grad) == (3.0, -2.0, 5.0)
    assert dead.grad == 5.0 and zero_path.grad == 1.0


def test_order_is_stable() -> None:
    """Same list on two calls, and the same shape for two identically built graphs."""

    def build() -> Value:
        x, y = Value(0.3, label="x"), Value(-1.2, label="y")
        s = x * y + x
        t = s.sigmoid() * s + weighted_sum([x, y], [s, 2.0], y)
        return (t / (1 + s * s)) ** 2 + t.exp()

    r1, r2 = build(), build()
    o1 = topological_order(r1)
    assert topological_order(r1) == o1
    o2 = topological_order(r2)
    assert_topological(o1, r1)
    sig1 = [(v.op, v.label, v.data) for v in o1]
    sig2 = [(v.op, v.label, v.data) for v in o2]
    assert sig1 == sig2
    # parent positions are identical too (same shape, not only the same multiset of ops)
    p1 = {id(v): i for i, v in enumerate(o1)}
    p2 = {id(v): i for i, v in enumerate(o2)}
    assert [[p1[id(p)] for p in v.parents] for v in o1] == [[p2[id(p)] for p in v.parents] for v in o2]


def test_order_on_a_wide_graph_with_many_shared_nodes() -> None:
    """A layered graph where every node feeds several later ones."""
    leaves = [Value(0.1 * i, label=f"x{i}") for i in range(5)]
    layer = leaves
    for _ in range(6):
        layer = [layer[i] * layer[(i + 1) % 5] + layer[(i + 2) % 5].tanh() for i in range(5)]
    root = layer[0] + layer[1] + layer[2] + layer[3] + layer[4]
    order = topological_order(root)
    assert_topological(order, root)
    assert [v for v in order if v.label] == leaves  # leaves reached in argument order


def test_topological_order_rejects_non_values() -> None:
    """TypeError naming the type."""
    with pytest.raises(TypeError, match="float"):
        topological_order(1.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------- backward


def test_backward_on_diamond_matches_closed_form() -> None:
    """d = 2x tanh(x) + 2x; dd/dx = 2 tanh x + 2x (1 - tanh^2 x) + 2."""
    (x, a, b, c), d = diamond()
    d.backward()
    t = math.tanh(0.7)
    assert x.grad == pytest.approx(2 * t + 2 * 0.7 * (1 - t * t) + 2, rel=1e-14)
    assert d.grad == 1.0
    assert c.grad == 1.0
    assert a.grad == pytest.approx(t + 1, rel=1e-14)
    assert b.grad == pytest.approx(1.4, rel=1e-14)


def test_accumulate_is_the_chain_rule_loop() -> None:
    """Seeding the root and calling accumulate over the reversed order equals backward()."""
    (x, *_), d = diamond()
    d.backward()
    expected = x.grad
    (y, *_), e = diamond()
    e.grad = 1.0
    accumulate(reversed(topological_order(e)))
    assert y.grad == expected


def test_backward_twice_leaves_accumulate_interior_nodes_show_the_current_pass() -> None:
    """Second backward: leaf grads exactly double, interior grads equal the first pass's."""
    (x, *_), d = diamond()
    w = Value(-0.4)
    root = d * w
    root.backward()
    first = {id(v): v.grad for v in topological_order(root)}
    backward(root)
    for v in topological_order(root):
        if v.parents:
            assert v.grad == first[id(v)], v.op
        else:
            assert v.grad == 2 * first[id(v)]
    assert x.grad == 2 * first[id(x)] != 0.0


def test_micrograd_issue_53() -> None:
    """micrograd #53: a=3, b=2, c=a+b, d=1, e=c*d, backward twice.

    micrograd gives a=3, b=3, c=2 (c's stale grad pushed again); here leaves accumulate
    (a=b=2, d=10) and the interior c shows the current pass alone (1).
    """
    a, b, d = Value(3.0), Value(2.0), Value(1.0)
    c = a + b
    e = c * d
    e.backward()
    assert (a.grad, b.grad, c.grad, d.grad, e.grad) == (1.0, 1.0, 1.0, 5.0, 1.0)
    e.backward()
    assert (a.grad, b.grad, c.grad, d.grad, e.grad) == (2.0, 2.0, 1.0, 10.0, 1.0)


def test_zeroing_leaves_makes_backward_idempotent() -> None:
    """With leaf grads cleared between calls (zero_grad), every grad is the same on each call."""
    _, d = diamond()
    results = []
    for _ in range(3):
        for v in topological_order(d):
            if not v.parents:
                v.grad = 0.0
        d.backward()
        results.append([v.grad for v in topological_order(d)])
    assert results[0] == results[1] == results[2]


def test_leaf_as_root() -> None:
    """A leaf's own backward seeds it with 1 (and, being a leaf, accumulates)."""
    a = Value(5.0)
    a.backward()
    assert a.grad == 1.0
    a.backward()
    assert a.grad == 2.0


def test_two_roots_sharing_a_subgraph() -> None:
    """r1 = s + a, r2 = s*s with s = a*b: leaves sum both, s shows the latest pass alone."""
    a, b = Value(1.5), Value(-2.0)
    s = a * b
    r1 = s + a
    r2 = s * s
    r1.backward()
    assert (a.grad, b.grad, s.grad) == (-2.0 + 1.0, 1.5, 1.0)
    with accumulating():  # on purpose: the leaves sum both roots' gradients
        r2.backward()
    sv = -3.0
    assert s.grad == 2 * sv
    assert a.grad == (-2.0 + 1.0) + 2 * sv * -2.0
    assert b.grad == 1.5 + 2 * sv * 1.5
    assert r1.grad == 1.0  # not in r2's graph: untouched


def test_backward_of_an_interior_node_then_its_child() -> None:
    """backward on s then on a child of s: s's stale grad is reset, not pushed twice."""
    a = Value(2.0)
    s = a * a
    s.backward()
    assert a.grad == 4.0
    a.grad = 0.0
    t = s * 3
    t.backward()
    assert s.grad == 3.0
    assert a.grad == 12.0


# ---------------------------------------------------------------- deep and big graphs


def test_million_node_chain() -> None:
    """1,000,000 multiplications: no RecursionError, the right gradient, and the graph frees.

    y = x * c * c * ... (10^6 times) so dy/dx = c^(10^6); the deallocation of the chain at `del`
    must not overflow the C stack either. (One test of this size; it takes a few seconds.)
    """
    c = 1.0000001
    n = 1_000_000
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    assert x.grad == pytest.approx(c**n, rel=1e-9)
    assert y.data == pytest.approx(c**n, rel=1e-9)
    assert y.parents[0].grad == pytest.approx(c, rel=1e-15)
    del y
    assert x.grad == pytest.approx(math.exp(n * math.log(c)), rel=1e-9)


class WeakLeaf(Value):
    """A Value subclass that can be weakly referenced (Value's __slots__ has no __weakref__)."""


def test_dropped_graph_is_freed_by_reference_counting_alone() -> None:
    """With the cycle collector disabled, deleting the root frees the whole graph.

    Value has __slots__ without __weakref__, so the leaf is a subclass instance that accepts a
    weak reference. Every node of the graph depends on that leaf, so if any node sat in a
    reference cycle (e.g. a closure capturing its own output, as micrograd's do), the cycle would
    keep the leaf alive with the collector off and the weak reference would not die.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        leaf = WeakLeaf(0.5)
        ref = weakref.ref(leaf)
        y = leaf
        for i in range(200):
            y = (y * leaf + i).tanh() + weighted_sum([leaf], [y], leaf) / 3 + y**2 * 0.01
        y.backward()
        assert leaf.grad != 0.0
        del leaf
        assert ref() is not None  # still held by the graph
        del y
        assert ref() is None  # freed without the collector
    finally:
        if was_enabled:
            gc.enable()


def test_dropped_graph_memory_returns_to_baseline_without_gc() -> None:
    """tracemalloc: after building, backpropagating and deleting a 100,000-node graph with the
    collector off, traced memory returns to (almost) where it was: nothing waits for gc."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        xs = [Value(0.001 * i) for i in range(100)]
        y = Value(0.0)
        for i in range(20_000):
            y = (y + xs[i % 100] * xs[(i * 7) % 100]).sigmoid()
        y.backward()
        peak_while_alive = tracemalloc.get_traced_memory()[0]
        del y, xs
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    assert peak_while_alive - baseline > 4_000_000  # the graph really was big
    assert after - baseline < 100_000


# ---------------------------------------------------------------- copies and pickles


def test_deepcopy_shares_the_table_rows_and_backpropagates() -> None:
    """A deep copy keeps the table's rows (`operation is`), and backward on top of it is right."""
    import copy

    x = Value(3.0, label="x")
    y = (x * x).relu() + x
    y2 = copy.deepcopy(y)
    assert y2.operation is y.operation and y2.parents[0].operation is y.parents[0].operation
    z = y2 * 2.0
    z.backward()
    order = topological_order(z)
    assert_topological(order, z)
    x2 = order[0]
    assert x2 is not x and x2.label == "x" and x2.grad == 2 * (2 * 3.0 + 1)
    assert x.grad == 0.0  # the original is untouched


def test_a_graph_pickled_into_another_process_still_backpropagates() -> None:
    """A pickled graph (table rows travel by name) loads in a fresh process; nodes made on top work."""
    import pickle
    import subprocess
    import sys

    x = Value(3.0, label="x")
    blob = pickle.dumps((x * x).relu() + x)
    child = (
        "import pickle, sys\n"
        "from autograd import topological_order\n"
        f"y = pickle.loads({blob!r})\n"
        "z = y * 2.0\n"
        "z.backward()\n"
        "order = topological_order(z)\n"
        "print(order[0].label, order[0].grad, order[-1] is z)\n"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["x", str(2 * (2 * 3.0 + 1)), "True"]


def test_pickling_names_an_operation_outside_the_table() -> None:
    """A closure node's op is not a table row: pickling says so; loading an unknown op says what to do."""
    import pickle

    from autograd.oprecord import row_named

    a = Value(2.0)
    out = Value(4.0, (a,), "square")
    with pytest.raises(TypeError, match=r"cannot pickle the operation 'square'"):
        pickle.dumps(out)
    with pytest.raises(ValueError, match=r"no built-in operation 'nope' in this version of autograd"):
        row_named("nope")
