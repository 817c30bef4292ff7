"""The GPU suite's rooms (``benchmarks/gpu_suite.py`` is the entry point; its docstring says
what the suite measures): tiny and real subjects (``models``), correctness checks (``checks``),
training-throughput variants and MFU (``variants``), generation (``generation``), one model's
suite run (``suite``), the ``--epoch`` stretch (``epoch_data``, ``epoch_train``, ``epoch``) and
the command line (``cli``)."""
