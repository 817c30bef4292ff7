"""Rules about models and tokenizers shared by the datasets, the chats, the settings and the
pipelines: how an example is laid out in tokens, the pad token, the LoRA merge, the prompt format
and what a saved model records about how it was made.

Nothing here imports from :mod:`llm_finetune.pipelines` (a test walks the imports), and torch and
transformers are imported inside functions only.
"""
