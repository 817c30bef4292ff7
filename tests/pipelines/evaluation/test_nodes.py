"""Evaluation nodes: perplexity by hand, report tables, HTML and plots."""

from __future__ import annotations

import math

import polars as pl
import pytest
import torch

from llm_finetune.pipelines.evaluation import nodes, perplexity, plots, report_html, summary
from llm_finetune.pipelines.evaluation.probes import probe_prompts
from tests.conftest import record_decoded_prompts

IGNORE = perplexity.IGNORE_INDEX
TEMPLATE = "### Question:\n{question}\n### Answer:\n{answer}"
#: A small probe set in ``select_probe_questions``' layout: two red-flag questions, one pair.
PROBES = {
    "red_flag": {
        "version": 1,
        "questions": [
            {"id": "a", "topic": "t", "expected_action": "emergency", "question": "Chest pain?"},
            {"id": "b", "topic": "t", "expected_action": "urgent", "question": "Red eye?"},
        ],
    },
    "bias": {
        "version": 1,
        "pairs": [
            {
                "id": "p",
                "attribute": "sex",
                "variants": ["man", "woman"],
                "questions": ["A man asks?", "A woman asks?"],
            }
        ],
    },
}
NO_PROBES = {"red_flag": {"version": 1, "questions": []}, "bias": {"version": 1, "pairs": []}}


def tokenize_rows(tokenizer, pairs: list[tuple[str, str]]) -> pl.DataFrame:
    """``tokenized_test``'s contract: prompt labels -100, answer and final EOS labelled."""
    rows = {"input_ids": [], "labels": [], "attention_mask": []}
    for prompt, answer in pairs:
        prompt_ids = tokenizer(prompt)["input_ids"]
        target = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows["input_ids"].append(prompt_ids + target)
        rows["labels"].append([IGNORE] * len(prompt_ids) + target)
        rows["attention_mask"].append([1] * (len(prompt_ids) + len(target)))
    return pl.DataFrame(rows)


PAIRS = [
    ("### Question:\nWhat causes a headache?\n### Answer:\n", "Eye strain or sinus congestion."),
    ("### Question:\nIs a fever dangerous?\n### Answer:\n", "Rest, fluids; see a physician."),
    ("### Question:\nKnee pain?\n### Answer:\n", "Often patellofemoral pain. Physiotherapy helps."),
]


def test_perplexity_equals_hand_computation(tiny_model, tiny_tokenizer):
    tokenized = tokenize_rows(tiny_tokenizer, PAIRS)
    total_nll, total_tokens = 0.0, 0
    with torch.no_grad():
        for ids, labels in zip(tokenized["input_ids"], tokenized["labels"], strict=True):
            ids_t, labels_t = torch.tensor([ids.to_list()]), torch.tensor([labels.to_list()])
            # HF shifts the labels itself and averages over the labelled tokens.
            loss = tiny_model(input_ids=ids_t, labels=labels_t).loss
            n = sum(1 for label in labels.to_list()[1:] if label != IGNORE)
            total_nll += float(loss) * n
            total_tokens += n
    expected = math.exp(total_nll / total_tokens)

    result = perplexity.answer_perplexity(tiny_model, tiny_tokenizer, tokenized, batch_size=2)
    assert result["tokens"] == total_tokens
    assert result["perplexity"] == pytest.approx(expected, rel=1e-5)
    unbatched = perplexity.answer_perplexity(tiny_model, tiny_tokenizer, tokenized, batch_size=1)
    assert unbatched["perplexity"] == pytest.approx(expected, rel=1e-5)


def test_perplexity_ignores_padded_positions(tiny_model, tiny_tokenizer):
    tokenized = tokenize_rows(tiny_tokenizer, PAIRS[:1])
    padded = tokenized.with_columns(
        pl.col("input_ids").list.concat(pl.lit([0, 0])),
        pl.col("labels").list.concat(pl.lit([5, 5])),  # labelled but masked out: not scored
        pl.col("attention_mask").list.concat(pl.lit([0, 0])),
    )
    plain = perplexity.answer_perplexity(tiny_model, tiny_tokenizer, tokenized)
    result = perplexity.answer_perplexity(tiny_model, tiny_tokenizer, padded)
    assert result["perplexity"] == pytest.approx(plain["perplexity"])
    assert result["row_tokens"] == plain["row_tokens"]
    assert result["row_nll"] == pytest.approx(plain["row_nll"])


def test_perplexity_per_row_adds_up_to_the_pooled_value(tiny_model, tiny_tokenizer):
    result = perplexity.answer_perplexity(
        tiny_model, tiny_tokenizer, tokenize_rows(tiny_tokenizer, PAIRS)
    )
    assert len(result["row_nll"]) == len(result["row_tokens"]) == len(PAIRS)
    assert sum(result["row_tokens"]) == result["tokens"]
    pooled = math.exp(sum(result["row_nll"]) / sum(result["row_tokens"]))
    assert pooled == pytest.approx(result["perplexity"], rel=1e-6)


def test_perplexity_without_labelled_tokens_is_nan(tiny_model, tiny_tokenizer):
    tokenized = tokenize_rows(tiny_tokenizer, PAIRS[:1]).with_columns(
        pl.col("labels").list.eval(pl.lit(IGNORE))
    )
    result = perplexity.answer_perplexity(tiny_model, tiny_tokenizer, tokenized)
    assert result["tokens"] == 0 and math.isnan(result["perplexity"])


def make_test_qa(n: int = 3) -> pl.DataFrame:
    questions = [f"Question number {i}?" for i in range(n)]
    return pl.DataFrame(
        {
            "question": [f"### Question:\n{q}\n### Answer:\n" for q in questions],
            "answer": [f"Answer <b>{i}</b> & rest." for i in range(n)],
            "plain_question": questions,
            "line_number": list(range(1, n + 1)),
        }
    )


def answers(texts: list[str], eos: bool = True) -> list[dict]:
    return [{"text": t, "ended_with_eos": eos, "num_new_tokens": 4} for t in texts]


def test_select_eval_questions():
    test_qa = make_test_qa(5)
    two = {"num_questions": 2}
    assert nodes.select_eval_questions(test_qa, two)["line_number"].to_list() == [1, 2]
    assert nodes.select_eval_questions(test_qa, {"num_questions": None}).height == 5
    with pytest.raises(ValueError, match="empty"):
        nodes.select_eval_questions(test_qa.head(0), two)
    with pytest.raises(ValueError, match="lacks"):
        nodes.select_eval_questions(test_qa.drop("plain_question"), two)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="evaluation.num_questions must be a positive"):
            nodes.select_eval_questions(test_qa, {"num_questions": bad})


def test_render_off_topic_prompts_raw_then_templated():
    prompts = nodes.render_off_topic_prompts(["What do you think of Mars?", "Pancakes?"], TEMPLATE)
    assert prompts == [
        "What do you think of Mars?",
        "Pancakes?",
        "### Question:\nWhat do you think of Mars?\n### Answer:\n",
        "### Question:\nPancakes?\n### Answer:\n",
    ]


def test_evaluate_model_generates_once_for_questions_and_probes(tiny_model, tiny_tokenizer):
    eval_questions = make_test_qa(2)
    answered, off_topic, probed, perplexity = nodes.evaluate_model(
        (tiny_model, tiny_tokenizer),
        eval_questions,
        nodes.render_off_topic_prompts(["Mars?"], TEMPLATE),
        PROBES,
        tokenize_rows(tiny_tokenizer, PAIRS),
        {"perplexity_batch_size": 2},
        {"max_new_tokens": 3, "batch_size": 2},
    )
    assert len(answered) == 2 and len(off_topic) == 2
    assert len(probed["red_flag"]) == 2 and [len(pair) for pair in probed["bias"]] == [2]
    assert set(answered[0]) == {"text", "ended_with_eos", "num_new_tokens"}
    assert perplexity["tokens"] > 0 and perplexity["perplexity"] > 1


def prompts_given_to(model, tokenizer, monkeypatch) -> list[str]:
    """Records the prompt text of every row the model is asked to answer (padding dropped); the
    real decoding runs."""
    return record_decoded_prompts(model, monkeypatch, tokenizer)


def test_each_model_is_evaluated_in_the_prompt_format_it_was_saved_with(
    tmp_path, tiny_model, tiny_tokenizer, monkeypatch, caplog
):
    """The run's template (the data's) is the default; the model was saved with another one."""
    import logging

    from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer
    from llm_finetune.modeling.prompt_format import PromptFormat

    other = PromptFormat("Q: {question}\nA: {answer}")
    HFModelDataset(filepath=str(tmp_path / "new")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer, other)
    )
    HFModelDataset(filepath=str(tmp_path / "old")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer)
    )
    eval_questions = make_test_qa(2)  # its `question` column is in the run's template
    probes = nodes.render_off_topic_prompts(["Mars?"], TEMPLATE)
    inputs = (
        eval_questions,
        probes,
        PROBES,
        tokenize_rows(tiny_tokenizer, PAIRS),
        {},
        {"max_new_tokens": 2},
    )

    saved = HFModelDataset(filepath=str(tmp_path / "new")).load()
    given = prompts_given_to(saved.model, saved.tokenizer, monkeypatch)
    answered, off_topic, _, _ = nodes.evaluate_fine_tuned_model(saved, *inputs)
    assert len(answered) == 2 and len(off_topic) == 2
    expected = [
        "Q: Question number 0?\nA: ",
        "Q: Question number 1?\nA: ",
        "Mars?",
        "Q: Mars?\nA: ",
        *(f"Q: {q}\nA: " for q in ("Chest pain?", "Red eye?", "A man asks?", "A woman asks?")),
    ]
    assert sorted(given) == sorted(expected)  # batched longest first

    older = HFModelDataset(filepath=str(tmp_path / "old")).load()  # saved without a record
    given = prompts_given_to(older.model, older.tokenizer, monkeypatch)
    caplog.set_level(logging.INFO, logger="llm_finetune.modeling")
    nodes.evaluate_base_model(older, *inputs)
    probed = [TEMPLATE.format(question=q, answer="") for q in probe_prompts(PROBES)]
    assert sorted(given) == sorted([*eval_questions["question"], *probes, *probed])
    assert any("records no prompt format" in r.getMessage() for r in caplog.records)


def test_a_model_without_a_record_is_prompted_in_the_runs_template(
    tmp_path, tiny_model, tiny_tokenizer, monkeypatch, caplog
):
    """A bare base model follows the run's ``prompt_template``; a model saved with another format
    keeps its own, and the log says its perplexity is on the run's rendering of the test split."""
    import logging

    from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer
    from llm_finetune.modeling.prompt_format import PromptFormat

    run_template = "Patient: {question}\nDoctor: {answer}"
    HFModelDataset(filepath=str(tmp_path / "bare")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer)
    )
    HFModelDataset(filepath=str(tmp_path / "own")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer, PromptFormat("Q: {question}\nA: {answer}"))
    )
    inputs = (
        make_test_qa(1),
        [],
        NO_PROBES,
        tokenize_rows(tiny_tokenizer, PAIRS),
        {},
        {"max_new_tokens": 2},
    )
    caplog.set_level(logging.INFO)

    bare = HFModelDataset(filepath=str(tmp_path / "bare")).load()
    given = prompts_given_to(bare.model, bare.tokenizer, monkeypatch)
    nodes.evaluate_base_model(bare, *inputs, run_template)
    assert given == ["Patient: Question number 0?\nDoctor: "]
    assert not any("perplexity is measured" in r.getMessage() for r in caplog.records)

    own = HFModelDataset(filepath=str(tmp_path / "own")).load()
    given = prompts_given_to(own.model, own.tokenizer, monkeypatch)
    nodes.evaluate_fine_tuned_model(own, *inputs, run_template)
    assert given == ["Q: Question number 0?\nA: "]
    assert any("perplexity is measured" in r.getMessage() for r in caplog.records)


def test_evaluate_model_rejects_bad_generation_settings_before_loading_anything():
    with pytest.raises(ValueError, match="max_length"):
        nodes.evaluate_model(
            (None, None), make_test_qa(1), [], NO_PROBES, None, {}, {"max_length": 100}
        )
    with pytest.raises(ValueError, match="generation.max_new_tokens must be a positive"):
        nodes.evaluate_model(
            (None, None), make_test_qa(1), [], NO_PROBES, None, {}, {"max_new_tokens": 0}
        )


def perplexity_result(row_nll: list[float], row_tokens: list[int]) -> dict:
    tokens = sum(row_tokens)
    return {
        "perplexity": math.exp(sum(row_nll) / tokens),
        "mean_nll": sum(row_nll) / tokens,
        "tokens": tokens,
        "row_nll": row_nll,
        "row_tokens": row_tokens,
    }


def test_comparison_table_and_metrics():
    eval_questions = make_test_qa(3)
    refs = eval_questions["answer"].to_list()
    base = answers(["no idea", "no idea", "no idea"], eos=False)
    tuned = answers([refs[0], "Answer 1 rest", "stop it. stop it now. stop it. stop it now."])
    table = nodes.build_comparison_table(eval_questions, base, [], tuned)
    assert table["question"].tolist() == eval_questions["plain_question"].to_list()
    assert table["fine_tuned_exact_match"].tolist() == [1.0, 0.0, 0.0]
    assert table["base_ended_with_eos"].tolist() == [False] * 3
    assert table["fine_tuned_loop"].tolist() == [False, False, True]
    assert "base_chat_answer" not in table.columns  # not asked in a chat format
    for model in ("base", "fine_tuned"):
        for column in ("answer", "token_f1", "bleu", "rouge_l", "exact_match", "ended_with_eos"):
            assert f"{model}_{column}" in table.columns

    tokenized = pl.DataFrame({"plain_question": eval_questions["plain_question"]})
    base_ppl = perplexity_result([6.0, 6.0, 6.0], [3, 3, 3])  # exp(2) per row
    tuned_ppl = perplexity_result([3.0, 6.0, 9.0], [3, 3, 3])  # exp(1), exp(2), exp(3)
    result = summary.build_evaluation_metrics(
        table, tokenized, base_ppl, {}, tuned_ppl, {"max_new_tokens": 5}
    )
    assert result["num_questions"] == 3 and result["num_answers"] == 3
    assert result["generation"]["max_new_tokens"] == 5
    assert result["generation"]["repetition_penalty"] == 1.1  # the project's default
    assert result["base"]["eos_rate"] == 0.0 and result["fine_tuned"]["eos_rate"] == 1.0
    assert result["fine_tuned"]["exact_match"] == pytest.approx(1 / 3)
    assert result["fine_tuned"]["repetition_loop_rate"] == pytest.approx(1 / 3)
    assert result["base"]["perplexity"] == pytest.approx(math.exp(2))
    assert result["base"]["perplexity_tokens"] == 9
    differences = result["differences"]
    # Every paired difference is fine-tuned minus base, by hand:
    assert differences["eos_rate"]["difference"] == pytest.approx(1.0)
    assert differences["eos_rate"] | {"wins": 3, "ties": 0, "losses": 0} == differences["eos_rate"]
    assert differences["exact_match"]["difference"] == pytest.approx(1 / 3)
    assert differences["loop_rate"]["difference"] == pytest.approx(1 / 3)
    assert (differences["loop_rate"]["wins"], differences["loop_rate"]["losses"]) == (0, 1)
    # Pooled perplexity exp(18 / 9) = exp(2) for both: no difference; one row better, one worse.
    perplexity = differences["perplexity"]
    assert perplexity["difference"] == pytest.approx(0.0, abs=1e-12)
    assert (perplexity["wins"], perplexity["ties"], perplexity["losses"]) == (1, 1, 1)
    assert perplexity["ci_low"] < 0 < perplexity["ci_high"]
    assert perplexity["higher_is_better"] is False
    for name, row in differences.items():
        assert row["ci_low"] <= row["difference"] <= row["ci_high"], name
    assert "3 questions" in result["uncertainty"]["caveat"]
    with pytest.raises(ValueError, match="one per question"):
        nodes.build_comparison_table(eval_questions, base[:2], [], tuned)


def test_metrics_score_empty_repeated_and_non_latin_answers():
    """Bad answers are scored, never a crash, also after a CSV round trip (empty -> NaN)."""
    eval_questions = make_test_qa(3)
    texts = ["", "ok " * 300, "血压高怎么办 请咨询医生"]
    table = nodes.build_comparison_table(eval_questions, answers(texts), [], answers(texts[::-1]))
    assert table["base_loop"].tolist() == [False, True, False]
    table.loc[0, "base_answer"] = float("nan")  # what pandas reads back for an empty cell
    tokenized = pl.DataFrame({"plain_question": eval_questions["plain_question"]})
    ppl = perplexity_result([1.0, 2.0, 3.0], [1, 2, 3])
    result = summary.build_evaluation_metrics(table, tokenized, ppl, {}, ppl, {})
    assert result["base"]["token_f1"] == 0.0
    assert result["base"]["repetition_loop_rate"] == pytest.approx(1 / 3)
    page = report_html.render_comparison_html(table, result)
    assert "LOOP" in page


def test_off_topic_probe_raw_and_templated_side_by_side():
    rows = nodes.build_off_topic_probe(
        ["Mars?", "Pancakes?"],
        answers(["A planet.", "Flour.", "Red.", "Eggs."]),
        answers(["Hi doctor", "Hello", "Consult a doctor", "Take rest"]),
    )
    assert rows[0] == {
        "question": "Mars?",
        "base_raw_answer": "A planet.",
        "base_raw_ended_with_eos": True,
        "base_raw_new_tokens": 4,
        "fine_tuned_raw_answer": "Hi doctor",
        "fine_tuned_raw_ended_with_eos": True,
        "fine_tuned_raw_new_tokens": 4,
        "base_templated_answer": "Red.",
        "base_templated_ended_with_eos": True,
        "base_templated_new_tokens": 4,
        "fine_tuned_templated_answer": "Consult a doctor",
        "fine_tuned_templated_ended_with_eos": True,
        "fine_tuned_templated_new_tokens": 4,
    }
    assert rows[1]["base_raw_answer"] == "Flour." and rows[1]["fine_tuned_templated_answer"] == (
        "Take rest"
    )


def test_off_topic_probe_needs_both_forms_of_every_question():
    with pytest.raises(ValueError, match="base_off_topic_answers has 1 answers; expected 2"):
        nodes.build_off_topic_probe(["Mars?"], answers(["A planet."]), answers(["Hi", "Yo"]))


def _metrics() -> dict:
    model = {
        "exact_match": 0.0,
        "token_f1": 0.4,
        "bleu": 12.5,
        "rouge_l": 0.3,
        "eos_rate": 0.5,
        "repetition_loop_rate": 0.1,
        "distinct_2": 0.8,
        "n": 2.0,
        "mean_new_tokens": 30.0,
        "perplexity": 20.0,
        "perplexity_tokens": 50,
    }
    return {
        "base": model,
        "fine_tuned": {**model, "perplexity": None},
        "num_questions": 2,
        "generation": {"max_new_tokens": 5},
        "differences": {
            "token_f1": {
                "difference": 0.1,
                "ci_low": -0.05,
                "ci_high": 0.25,
                "wins": 2,
                "ties": 0,
                "losses": 0,
                "higher_is_better": True,
            },
            "loop_rate": {
                "difference": -0.5,
                "ci_low": -1.0,
                "ci_high": 0.0,
                "wins": 1,
                "ties": 1,
                "losses": 0,
                "higher_is_better": False,
            },
        },
        "uncertainty": {"method": "paired bootstrap", "caveat": "2 questions: wide"},
    }


def test_html_page_escapes_text_and_carries_the_disclaimer():
    eval_questions = make_test_qa(2)
    table = nodes.build_comparison_table(
        eval_questions,
        answers(["<script>alert(1)</script>", "ok"]),
        [],
        answers(["Rest now. Rest now. Rest now.", "ok"], eos=False),
    )
    page = report_html.render_comparison_html(table, _metrics())
    # The looping fine-tuned answer is highlighted and flagged; the unfinished ones are flagged.
    assert page.count('class="text loop"') == 1
    assert page.count("CUT</span> ") == 2  # (and once more in the legend)
    assert "+0.100" in page and "[-0.050, 0.250]" in page and "2 / 0 / 0" in page
    assert "2 questions: wide" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Answer &lt;b&gt;0&lt;/b&gt; &amp; rest." in page
    assert "not medical advice" in page
    assert "max_new_tokens=5" in page and "n/a" in page  # a null perplexity


def test_metrics_plot_has_bars_and_the_loss_curves_next_to_them():
    history = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}, {"step": 2, "eval_loss": 1.8}]
    fig = plots.plot_metrics(_metrics(), {"log_history": history})
    assert len(fig.axes) == 5
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "token_f1",
        "rouge_l",
        "exact_match",
        "eos_rate",
        "repetition_loop_rate",
        "distinct_2",
    ]
    assert [ax.get_title() for ax in fig.axes[1:3]] == [
        "Answer perplexity (lower)",
        "Corpus BLEU (0-100)",
    ]
    differences = fig.axes[3]
    assert [t.get_text() for t in differences.get_xticklabels()] == ["token_f1", "loop_rate"]
    assert [bar.get_height() for bar in differences.patches] == pytest.approx([0.1, -0.5])
    bars = next(c for c in differences.containers if hasattr(c, "errorbar"))
    assert len(bars.errorbar.lines[2][0].get_segments()) == 2  # one error bar per metric
    assert {line.get_label() for line in fig.axes[4].get_lines()} == {"train loss", "eval loss"}
