"""The doctor chat, shared by the terminal (``python -m llm_finetune.chat``) and the web page
(``python -m llm_finetune.webchat``), one module per job:

- :mod:`.loading`: the model and its prompt template, from the project's catalog or a directory;
- :mod:`.options`: the user's decoding options on top of the settings the model carries;
- :mod:`.history`: the conversation's finished turns;
- :mod:`.prompt`: history and question as prompt ids, laid out as training lays out examples,
  the oldest turns dropped until the prompt and the answer fit the model's context;
- :mod:`.bot`: :class:`~.bot.ChatModel`, what both interfaces drive; answers stream from
  :func:`llm_finetune.generation.stream_answer`, which decodes exactly as evaluation does;
- :mod:`.cli`: the command-line options and the start-up both interfaces share;
- :mod:`.terminal`: the terminal chat.

Both interfaces show the red-flag guard's notice (:mod:`llm_finetune.safety.guard`) before the
answer to a question that describes a possible emergency; the notice never enters the history.

``torch``, ``transformers`` and ``kedro``'s session are imported inside functions, so that
``--help`` stays fast.
"""
