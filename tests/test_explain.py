"""engine.learn.explain: the chain rule written out with numbers adds up to the engine's gradient."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Graph, NodeNotFoundError
from engine.learn.explain import NO_PATH, OUTPUT, SUM, UNDEFINED, explain, plain_number, term_sum
from tests.oracles import examples
from tests.strategies import graphs

SEED = "(a*4+3)*(a+2)"


def same(x, y):
    """Equal, with NaN equal to NaN and None only equal to None."""
    if x is None or y is None:
        return x is y
    return x == y or (x != x and y != y)


def seed_graph():
    g = Graph.from_expression(SEED, a=3)
    g.set_name(g.output_node(), "e")
    return g


def test_fan_out_names_both_terms_and_their_sum():
    g = seed_graph()
    ex = explain(g, "a")
    assert ex.kind == SUM and ex.grad == 35.0
    assert sorted(t.product for t in ex.terms) == [15.0, 20.0]
    by_product = {t.product: t for t in ex.terms}
    mul = by_product[20.0]  # a*4: consumer grad 5 (from a+2), local derivative 4
    assert (g.op(mul.consumer), mul.consumer_grad, mul.local) == ("mul", 5.0, 4.0)
    add = by_product[15.0]  # a+2: consumer grad 15 (from a*4+3), local derivative 1
    assert (g.op(add.consumer), add.consumer_grad, add.local) == ("add", 15.0, 1.0)
    text = ex.text
    assert "∂e/∂a" in text
    assert ("20 + 15 = 35" in text) or ("15 + 20 = 35" in text)
    assert "5 · 4 = 20" in text and "15 · 1 = 15" in text
    for t in ex.terms:
        assert f"via {t.consumer_label}" in text


def test_terms_match_contributions():
    g = seed_graph()
    for n in g.nodes():
        ex = explain(g, n)
        got = sorted((t.consumer, t.port, t.product) for t in ex.terms)
        if ex.kind == SUM:
            assert got == sorted(g.contributions(n))


def test_output_is_one_in_words():
    g = seed_graph()
    ex = explain(g, "e")
    assert ex.kind == OUTPUT and ex.grad == 1.0 and ex.terms == ()
    assert "output" in ex.text and "= 1" in ex.text


def test_no_path_in_words():
    g = seed_graph()
    lone = g.add_number(7.0, name="z")
    side = g.add_op("neg")
    g.connect("a", side, 0)  # a also feeds a node that does not reach e
    ex = explain(g, lone)
    assert ex.kind == NO_PATH and ex.grad is None
    assert "no gradient" in ex.text and "z" in ex.text
    ex_a = explain(g, "a")
    assert ex_a.kind == SUM and ex_a.grad == 35.0
    assert [c for c, _ in ex_a.unused] == [side]
    assert "does not reach the output" in ex_a.text
    ex_side_src = explain(g, side)  # the unused neg node: nothing after it
    assert ex_side_src.kind == NO_PATH


def test_feeds_only_dead_ends():
    g = seed_graph()
    b = g.add_number(1.0, name="b")
    m = g.add_op("exp")
    g.connect(b, m, 0)
    ex = explain(g, b)
    assert ex.kind == NO_PATH and ex.unused == ((m, g.label(m)),)
    assert "do not reach" in ex.summary()


def test_same_consumer_twice_labels_ports():
    g = Graph.from_expression("x*x", x=3)
    ex = explain(g, "x")
    assert [t.port_name for t in ex.terms] == ["a", "b"]
    assert "[a]" in ex.text and "[b]" in ex.text
    assert ex.sum_line() == f"∂{g.label(g.output_node())}/∂x = 3 + 3 = 6"


def test_no_output_and_undefined_output():
    g = Graph()
    a = g.add_number(1.0, name="a")
    b = g.add_number(2.0, name="b")
    # two sinks without ancestors: the output follows the graph to the highest id, b
    assert explain(g, a).kind == "no_path" and explain(g, b).kind == "output"
    m = g.add_op("mul")
    g.connect(a, m, 0)  # port b left empty: the output has no value
    g.set_output(m)
    ex = explain(g, a)
    assert ex.kind == UNDEFINED and "not connected" in ex.text
    assert explain(g, b).kind == UNDEFINED


def test_explains_the_evaluated_output():
    g = seed_graph()
    inner = g.consumers("a")[0][0]
    g.backward(inner)
    ex = explain(g, "a")
    assert ex.output == inner and ex.grad == g.grad("a")
    assert term_sum(ex.terms) == g.grad("a")


def test_unknown_node():
    g = seed_graph()
    try:
        explain(g, "nope")
    except NodeNotFoundError as e:
        assert "nope" in str(e)
    else:
        raise AssertionError("expected NodeNotFoundError")


def test_plain_number():
    assert plain_number(35.0) == "35"
    assert plain_number(-2.5) == "-2.5"
    assert plain_number(math.nan) == "NaN"
    assert plain_number(1e-9) == "1e-9"
    assert plain_number(None) == "—"


def test_negative_terms_are_parenthesised():
    g = Graph.from_expression("a - 2*a", a=1)
    line = explain(g, "a").sum_line()
    assert "(-2)" in line and line.endswith("= -1")


@settings(max_examples=examples(150))
@given(graphs(max_ops=10), st.data())
def test_terms_sum_to_the_gradient(g, data):
    node = data.draw(st.sampled_from(g.nodes()))
    ex = explain(g, node)
    grad = g.grad(node)
    assert same(ex.grad, grad)
    if ex.kind == SUM:
        assert same(term_sum(ex.terms), grad)
        assert sorted((t.consumer, t.port) for t in ex.terms) == sorted(
            (c, p) for c, p, _ in g.contributions(node)
        )
        for t in ex.terms:
            assert same(t.product, t.consumer_grad * t.local)
            assert same(t.consumer_grad, g.grad(t.consumer))
    elif ex.kind == OUTPUT:
        assert node == g.output_node() and grad == 1.0
    else:
        assert grad is None
    assert ex.text  # every case renders
