"""Blind side-by-side human rating of model versions (``python -m llm_finetune.rating``).

:mod:`~llm_finetune.rating.pairs` reads every catalog version of the models' answers and chooses
the pairs to show, :mod:`~llm_finetune.rating.votes` checks and builds the vote records (stored by
:class:`llm_finetune.datasets.VotesDataset`), :mod:`~llm_finetune.rating.board` hands out blind
pairs and records votes, :mod:`~llm_finetune.rating.page` is the Gradio page. The leaderboard is
the ``human_evaluation`` pipeline.
"""
