"""The engine: forward values and the backward sweep of a formula (``trace``) or a model
(``tensor_trace``), forward mode (``forward``), central differences (``numeric``), which modes
a trace carries (``modes``), and SGD training built on the tensor trace (``train``)."""
