"""The words of the formula language, without SymPy: the functions a formula may call (with
their number of arguments) and their other names. The parser reads these before SymPy is
imported, so that a syntax error answers at once; ``ops`` checks, when it is imported,
that its callable rules are exactly these."""

FUNCTIONS: dict[str, int] = {
    "stop_gradient": 1, "exp": 1, "log": 1, "sqrt": 1, "sin": 1, "cos": 1, "tan": 1, "sinh": 1,
    "cosh": 1, "tanh": 1, "sigmoid": 1, "relu": 1, "softplus": 1, "silu": 1, "elu": 1, "leaky_relu": 2,
    "gelu": 1, "normal_cdf": 1, "normal_pdf": 1, "abs": 1, "sign": 1, "step": 1,
    "max": 2, "min": 2, "sum": 1, "mean": 1, "sumsq": 1, "mse": 2, "bce_with_logits": 2,
    "cross_entropy": 2, "softmax": 1, "log_softmax": 1, "logsumexp": 1, "outer": 2,
}
"""The functions a formula may call, with their number of arguments."""

ALIASES = {"ln": "log", "detach": "stop_gradient", "sgn": "sign", "heaviside": "step"}

CALLED = {"Phi": "normal_cdf", "phi": "normal_pdf"}
"""Names that are a function only when called: Φ(z) and φ(z), as gelu′ is printed, while a
bare φ (phi) stays a variable, an angle say."""

GREEK = dict(zip(
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma "
    "tau upsilon phi chi psi omega Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda "
    "Mu Nu Xi Omicron Pi Rho Sigma Tau Upsilon Phi Chi Psi Omega".split(),
))
"""λ → lambda, θ → theta, π → pi: the names the worksheets print as Greek letters (SymPy's)."""

MODULES = ("math", "torch", "np", "numpy", "F", "jnp", "jax", "nn", "functional", "ops", "nnf")
"""Prefixes of qualified names, as tutorial code writes them: math.exp, torch.exp, np.exp,
F.relu, torch.nn.functional.relu, jnp.tanh — each the function (or constant) of its last name."""

QUALIFIED = {"matmul": "matmul", "mm": "matmul", "dot": "dot", "square": "square", "pow": "pow",
             "t": "transpose", "transpose": "transpose", "mse_loss": "mse",
             "binary_cross_entropy_with_logits": "bce_with_logits", "sigmoid": "sigmoid"}
"""Other names of operations under a module or as a method: torch.matmul(A, B), x.pow(2),
F.mse_loss(p, y), F.binary_cross_entropy_with_logits(z, y)."""

METHODS = ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid", "relu",
           "abs", "sign", "sum", "mean", "detach", "softmax", "log_softmax", "logsumexp", "pow",
           "square", "t", "matmul", "mm", "dot", "item", "clone", "neg", "silu", "gelu", "elu", "softplus")
"""Methods of a tensor or a micrograd Value: x.relu(), x.sum(), x.pow(2), x.t(), a.dot(b),
x.item() (the value itself)."""

IDENTITY_METHODS = ("item", "clone")
"""Methods that return the value itself: a number out of a one-element tensor, a copy."""
