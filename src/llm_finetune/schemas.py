"""The raw dialogue schemas we accept and how each maps to ``question``/``answer``."""

from dataclasses import dataclass

#: The column of the conversation schema: a list of ``{role, content}`` turns per row.
MESSAGES = "messages"
#: The earlier turns of a conversation row, as JSON text, carried beside ``question``/``answer``
#: through data engineering (absent for question/answer schemas).
HISTORY = "history"
#: A conversation row's earlier turns rendered in the run's prompt format, as JSON text of
#: (prompt, answer) pairs: in the question/answer frames, for tokenization to label every answer.
CONTEXT = "context"


@dataclass(frozen=True)
class DialogueSchema:
    """Column names of one accepted raw schema."""

    name: str
    question: str
    answer: str
    context: str | None = None  # extra question text that may be folded in (the hub's `Patient`)

    @property
    def is_conversation(self) -> bool:
        """Rows are lists of turns (one ``messages`` column), not question/answer strings."""
        return self.question == MESSAGES


ACCEPTED_SCHEMAS: tuple[DialogueSchema, ...] = (
    DialogueSchema(
        "ai_medical_chatbot", question="Description", answer="Doctor", context="Patient"
    ),
    DialogueSchema("question_answer", question="question", answer="answer"),
    DialogueSchema("instruction_response", question="instruction", answer="response"),
    DialogueSchema("input_output", question="input", answer="output"),
    # One column of turns (llm_finetune.conversations): question and answer are its last two.
    DialogueSchema("messages", question=MESSAGES, answer=MESSAGES),
)


def detect_schema(columns: list[str]) -> DialogueSchema:
    """Return the first accepted schema whose question and answer columns are all present.

    Raises:
        ValueError: naming the columns found and the schemas accepted.
    """
    present = set(columns)
    for schema in ACCEPTED_SCHEMAS:
        if {schema.question, schema.answer} <= present:
            return schema
    accepted = "; ".join(
        (f"{s.name}: {s.question}" if s.is_conversation else f"{s.name}: {s.question}/{s.answer}")
        + (f" (+{s.context})" if s.context else "")
        for s in ACCEPTED_SCHEMAS
    )
    raise ValueError(
        f"none of the accepted schemas matches the columns {sorted(present)}; accepted: {accepted}"
    )


def text_columns(schema: DialogueSchema) -> list[str]:
    """Columns of ``schema`` that must hold strings (none for conversations: a ``messages``
    value is a list, checked turn by turn in data engineering)."""
    if schema.is_conversation:
        return []
    return [c for c in (schema.question, schema.answer, schema.context) if c]
