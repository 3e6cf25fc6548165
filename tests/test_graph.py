"""The graph is the one the user wrote: one node per operation, in order, names kept."""

import sympy

from worksheet import derive
from worksheet.lang.graph import Let, build
from worksheet.lang.parse import parse_expression, parse_program


def ops(graph):
    return [(n.name, n.op, n.inputs) for n in graph.operations]


def test_readme_formula_is_four_operation_nodes():
    graph = build(parse_program("(w*x+b-y)**2"))
    assert [n.name for n in graph.inputs] == ["w", "x", "b", "y"]
    assert ops(graph) == [
        ("v1", "mul", ("w", "x")),
        ("v2", "add", ("v1", "b")),
        ("v3", "sub", ("v2", "y")),
        ("L", "pow", ("v3",)),
    ]


def test_let_names_the_sub_expression():
    graph = build(parse_program("(w*x+b-y)**2"), lets=[Let("y_pred", parse_expression("w*x+b"), "w*x+b")])
    assert ops(graph) == [
        ("v1", "mul", ("w", "x")),
        ("y_pred", "add", ("v1", "b")),
        ("v2", "sub", ("y_pred", "y")),
        ("L", "pow", ("v2",)),
    ]


def test_nested_lets_and_repeated_occurrences_share_one_node():
    lets = [Let("s", parse_expression("a+b"), "a+b"), Let("t", parse_expression("s*c"), "s*c")]
    graph = build(parse_program("(a+b)*c + sin((a+b)*c)"), lets=lets)
    names = [n.name for n in graph.operations]
    assert names.count("s") == 1 and names.count("t") == 1
    consumers = [n.name for n in graph.operations if "t" in n.inputs]
    assert len(consumers) == 2  # t fans out into the sum and the sine


def test_program_names_are_kept_and_subtraction_is_its_own_node():
    graph = build(parse_program("y_pred = w*x + b\nL = (y_pred - y)**2"))
    assert ops(graph) == [
        ("v1", "mul", ("w", "x")),
        ("y_pred", "add", ("v1", "b")),
        ("v2", "sub", ("y_pred", "y")),
        ("L", "pow", ("v2",)),
    ]
    assert graph.node("y_pred").named and not graph.node("v1").named


def test_variable_used_twice_fans_out():
    graph = build(parse_program("a*a"))
    assert ops(graph) == [("L", "mul", ("a", "a"))]


def test_constants_fold_into_one_number():
    graph = build(parse_program("1/2*x + 2**10*y"))
    assert [n.op for n in graph.operations] == ["mul", "mul", "add"]
    assert graph.node("v1").args == (sympy.Rational(1, 2), sympy.Symbol("x", real=True))
    assert graph.node("v2").args[0] == 1024


def test_auto_names_skip_names_in_use():
    graph = build(parse_program("v1*x + v2"))
    assert [n.name for n in graph.operations] == ["v3", "L"]


def test_declared_values_are_defaults():
    trace = derive("param w = 0.5\ndata x = 2\nL = w*x", filename="p.ws")
    assert trace.wrt == ("w",)
    assert trace.point == {"w": sympy.Rational(1, 2), "x": 2}
    assert trace.gradients[0].value == 2


def test_only_what_the_target_needs_is_kept():
    graph = build(parse_program("a = x*2\nb = a + 1\nc = sin(b)"), target="b")
    assert [n.name for n in graph.operations] == ["a", "b"]
