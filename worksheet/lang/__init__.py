"""The formula language: text → ``Program`` (``parse``, with the words of ``vocabulary``) →
``Graph`` (``graph``). ``parse`` and ``vocabulary`` import no SymPy, so that a syntax error
answers at once; this package's ``__init__`` imports nothing."""
