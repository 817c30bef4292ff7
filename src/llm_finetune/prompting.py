"""The prompt template: one place that knows how a question becomes a model prompt.

Used by data engineering (templating the data), evaluation (off-topic probes) and the chat, so that
inference always sees exactly the prompt form the model was trained on.
"""

ANSWER_PLACEHOLDER = "{answer}"
QUESTION_PLACEHOLDER = "{question}"
#: The project's ``prompt_template`` (conf/base/parameters_data_engineering.yml; a test keeps the
#: two equal), for code without the project's parameters: the chat on a bare model directory, the
#: benchmarks. Pipelines read ``params:prompt_template`` instead.
DEFAULT_PROMPT_TEMPLATE = "### Question:\n{question}\n### Answer:\n{answer}"


def prompt_prefix(template: str) -> str:
    """The part of ``template`` before ``{answer}``: what the model sees at inference time."""
    if not template.endswith(ANSWER_PLACEHOLDER) or QUESTION_PLACEHOLDER not in template:
        raise ValueError(
            f"prompt_template must contain '{QUESTION_PLACEHOLDER}' and end with "
            f"'{ANSWER_PLACEHOLDER}', got {template!r}"
        )
    return template[: -len(ANSWER_PLACEHOLDER)]


def split_prompt_prefix(template: str) -> tuple[str, str]:
    """The text before and after ``{question}`` in the prompt prefix."""
    before, _, after = prompt_prefix(template).partition(QUESTION_PLACEHOLDER)
    return before, after


def render_prompt(template: str, question: str) -> str:
    """The prompt for one question (no answer), e.g. ``### Question:\\n...\\n### Answer:\\n``."""
    before, after = split_prompt_prefix(template)
    return f"{before}{question}{after}"
