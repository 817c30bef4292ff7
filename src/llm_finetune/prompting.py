"""The prompt template's functions, kept importable here for older imports (data engineering,
the benchmarks); they live in :mod:`llm_finetune.modeling.prompt_format`, with the template."""

from llm_finetune.modeling.prompt_format import (
    ANSWER_PLACEHOLDER,
    DEFAULT_PROMPT_TEMPLATE,
    QUESTION_PLACEHOLDER,
    prompt_prefix,
    render_prompt,
    split_prompt_prefix,
)

__all__ = [
    "ANSWER_PLACEHOLDER",
    "DEFAULT_PROMPT_TEMPLATE",
    "QUESTION_PLACEHOLDER",
    "prompt_prefix",
    "render_prompt",
    "split_prompt_prefix",
]
