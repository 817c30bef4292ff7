"""The raw dialogue schemas we accept and how each maps to ``question``/``answer``."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DialogueSchema:
    """Column names of one accepted raw schema."""

    name: str
    question: str
    answer: str
    context: str | None = None  # extra question text that may be folded in (the hub's `Patient`)


ACCEPTED_SCHEMAS: tuple[DialogueSchema, ...] = (
    DialogueSchema(
        "ai_medical_chatbot", question="Description", answer="Doctor", context="Patient"
    ),
    DialogueSchema("question_answer", question="question", answer="answer"),
    DialogueSchema("instruction_response", question="instruction", answer="response"),
    DialogueSchema("input_output", question="input", answer="output"),
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
        f"{s.name}: {s.question}/{s.answer}" + (f" (+{s.context})" if s.context else "")
        for s in ACCEPTED_SCHEMAS
    )
    raise ValueError(
        f"none of the accepted schemas matches the columns {sorted(present)}; accepted: {accepted}"
    )


def text_columns(schema: DialogueSchema) -> list[str]:
    """Columns of ``schema`` that must hold strings."""
    return [c for c in (schema.question, schema.answer, schema.context) if c]
