"""The formula language: text → ``Program`` (``parse``: its tree in ``syntax``, its numbers in
``numerals``, its words in ``vocabulary``) → ``Graph`` (``graph``: the nodes in ``nodes``,
``--let`` in ``lets``); what a run's options mean in ``options``. ``parse`` and what it
imports use no SymPy, so that a syntax error answers at once; this package's ``__init__``
imports nothing."""
