from llm_finetune.modeling.examples import IGNORE_INDEX, tokenize_pair
from llm_finetune.pipelines.training.packing import as_rows, collate_rows

PROMPT = "### Question:\nWhy does my knee hurt?\n### Answer:\n"
ANSWER = "Hi. This is often patellofemoral pain."


def test_prompt_is_masked_answer_and_eos_are_labelled(tiny_tokenizer):
    prompt_ids = tiny_tokenizer(PROMPT)["input_ids"]
    answer_ids = tiny_tokenizer(ANSWER, add_special_tokens=False)["input_ids"]

    example = tokenize_pair(tiny_tokenizer, PROMPT, ANSWER, max_length=512)

    assert example.input_ids == prompt_ids + answer_ids + [tiny_tokenizer.eos_token_id]
    assert example.labels[: len(prompt_ids)] == [IGNORE_INDEX] * len(prompt_ids)
    assert example.labels[len(prompt_ids) :] == answer_ids + [tiny_tokenizer.eos_token_id]
    assert example.labels[-1] == tiny_tokenizer.eos_token_id
    assert not example.truncated


def test_full_text_loss_labels_every_token(tiny_tokenizer):
    example = tokenize_pair(tiny_tokenizer, PROMPT, ANSWER, max_length=512, answer_only_loss=False)
    assert example.labels == example.input_ids
    assert IGNORE_INDEX not in example.labels


def test_truncated_answer_gets_no_eos_and_is_flagged(tiny_tokenizer):
    prompt_ids = tiny_tokenizer(PROMPT)["input_ids"]
    answer_ids = tiny_tokenizer(ANSWER, add_special_tokens=False)["input_ids"]
    example = tokenize_pair(tiny_tokenizer, PROMPT, ANSWER, max_length=len(prompt_ids) + 3)
    assert example.truncated
    assert example.input_ids == prompt_ids + answer_ids[:3]
    assert example.labels[-3:] == answer_ids[:3]  # no EOS: the cut answer did not end


def test_prompt_longer_than_max_length_is_rejected(tiny_tokenizer):
    assert tokenize_pair(tiny_tokenizer, PROMPT, ANSWER, max_length=3) is None


def test_eos_label_survives_padding_when_pad_equals_eos(tiny_tokenizer):
    assert tiny_tokenizer.pad_token_id == tiny_tokenizer.eos_token_id
    short = tokenize_pair(tiny_tokenizer, PROMPT, "Rest.", max_length=512)
    long = tokenize_pair(tiny_tokenizer, PROMPT, ANSWER, max_length=512)
    rows = as_rows([{"input_ids": e.input_ids, "labels": e.labels} for e in (short, long)])
    batch = collate_rows(rows, pad_token_id=tiny_tokenizer.pad_token_id)
    labels = batch["labels"][0].tolist()
    real = len(short.input_ids)
    assert labels[real - 1] == tiny_tokenizer.eos_token_id  # the real EOS keeps its label
    assert labels[real:] == [IGNORE_INDEX] * (len(long.input_ids) - real)  # pads do not
    assert batch["input_ids"][0].tolist()[real:] == [tiny_tokenizer.pad_token_id] * (
        len(long.input_ids) - real
    )
    assert batch["input_ids"].shape == batch["labels"].shape
