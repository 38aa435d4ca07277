"""The automatic output with a backward graph in the document: a forward node that only the
backward graph reads still ends the forward graph, so showing the backward graph never takes
the output away from it (and backward nodes are never chosen)."""

from __future__ import annotations

from engine import Graph


def test_a_node_read_only_by_backward_nodes_stays_the_automatic_output():
    g = Graph.from_expression("y = tanh(x)", x=0.5)
    h, grads = g.gradient_graph("y", "x")
    h.set_output(None)  # the result pins y: let the output follow the graph again
    assert h.pinned_output is None
    # y now feeds the backward graph (1 − y·y), yet it is the output, and nothing backward is
    assert h.consumers(h.resolve("y"))
    assert h.output_node() == h.resolve("y")
    # by hand: d tanh/dx at 0.5 = 1 − tanh(0.5)², what y's gradient sends to x
    assert abs(h.value(grads[g.resolve("x")]) - h.grad("x")) < 1e-12
