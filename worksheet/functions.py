"""SymPy functions the formula language adds to SymPy's own: σ, relu, softplus and stop_gradient.

Each evaluates exactly where it can (σ(0) = 1/2, relu(−3) = 0), numerically to any
precision, prints in textbook notation, and knows its derivative, so that SymPy's own
algebra (and `sympy.diff`, in the tests) treats them like any built-in function.
"""

from __future__ import annotations

import sympy
from sympy import Function, Heaviside, S, exp, log


class sigmoid(Function):
    """σ(z) = 1 / (1 + e^(−z));   σ′(z) = σ(z)·(1 − σ(z))."""

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return S.Half
        if z.is_Float:
            return 1 / (1 + exp(-z))

    def fdiff(self, argindex=1):
        z = self.args[0]
        return sigmoid(z) * (1 - sigmoid(z))

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + exp(-z))

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_positive(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        return _with_power(r"\sigma\left(%s\right)" % printer._print(self.args[0]), exp)


class relu(Function):
    """relu(z) = max(z, 0);   relu′(z) = [z > 0]  (0 at z = 0, as in PyTorch)."""

    @classmethod
    def eval(cls, z):
        if z.is_extended_nonnegative:
            return z
        if z.is_extended_negative:
            return S.Zero

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, z, **kwargs):
        return sympy.Max(z, 0)

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        return _with_power(r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0]), exp)


class softplus(Function):
    """softplus(z) = ln(1 + e^z);   softplus′(z) = σ(z)."""

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return log(2)
        if z.is_Float:
            return log(1 + exp(z))

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, z, **kwargs):
        return log(1 + exp(z))

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        return _with_power(r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0]), exp)


class stop_gradient(Function):
    """stop_gradient(z) = z;   its derivative is taken to be 0 (PyTorch's ``.detach()``,
    MindSpore's ``stop_gradient``): the value passes forward, no gradient passes back."""

    @classmethod
    def eval(cls, z):
        if z.is_number:
            return z

    def fdiff(self, argindex=1):
        return S.Zero

    def _eval_evalf(self, prec):
        return self.args[0]._eval_evalf(prec)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        return _with_power(r"\operatorname{stop\_gradient}\left(%s\right)" % printer._print(self.args[0]), exp)


class Defined(Function):
    """A function all of whose properties come from the one class that defines its operation
    (``ops/activations.py``): its exact values (``exact``), derivative (``local``), certified
    decimals (``ball``), closed form in SymPy's own functions (``definition``, for the oracles)
    and LaTeX name (``latex``). Subclasses are made by ``defined``, never written by hand."""

    operation = None  # the object that defines it

    @classmethod
    def eval(cls, *z):
        return cls.operation.exact(*z)

    def fdiff(self, argindex=1):
        from .forms import evaluate

        return evaluate(self.operation.local(argindex - 1, *self.args))

    def _eval_evalf(self, prec):
        return _certified_evalf(self, prec)

    def _eval_is_extended_real(self):
        return all(a.is_extended_real for a in self.args) or None

    def _latex(self, printer, exp=None):
        inner = ", ".join(printer._print(a) for a in self.args)
        return _with_power(r"%s\left(%s\right)" % (self.operation.latex, inner), exp)


def defined(name: str, operation) -> type[Defined]:
    """The SymPy function ``name`` whose properties ``operation`` defines."""
    return type(name, (Defined,), {"operation": operation, "nargs": operation.arity})


def _certified_evalf(f: Function, prec: int):
    """SymPy's evalf of σ, relu or softplus: certified digits (``arith``), never a rounding
    that SymPy would take for a proof (log(1 + e^−20) to 2 digits is 0, so "softplus is 0");
    None (left unevaluated) where the argument is not a number."""
    from .arith import Refused, certify

    if not all(a.is_number for a in f.args):
        return None
    try:
        return sympy.Float._new(certify(f, prec + 4)._mpf_, prec)
    except Refused:
        return None


def _with_power(tex: str, exp: str | None) -> str:
    return tex if exp is None else r"%s^{%s}" % (tex, exp)


def to_sympy(expr):
    """The same expression in SymPy's own functions (σ, relu, softplus and every defined
    function rewritten)."""
    return expr.replace(sigmoid, lambda z: 1 / (1 + exp(-z))).replace(
        relu, lambda z: sympy.Max(z, 0)
    ).replace(softplus, lambda z: log(1 + exp(z))).replace(
        lambda e: isinstance(e, Defined), lambda e: e.operation.definition(*e.args))
