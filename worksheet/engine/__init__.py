"""The engine: one trace for a formula or a model (``trace``: the forward values and the reverse
sweep, over the number policy of ``numbers``; a model's shapes and matrix forms in
``tensor_trace``), forward mode (``forward``), central differences (``numeric``), which modes a
trace carries (``modes``), and SGD training on the same sweep (``train``)."""
