"""Wiring of the data_engineering pipeline."""

from kedro.pipeline import Node, Pipeline

from llm_finetune.pipelines.data_engineering import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.normalise_schema,
                inputs=[
                    "raw_dialogues",
                    "params:data_engineering.include_patient_text",
                    "params:data_engineering.patient_text_separator",
                ],
                outputs=["dialogues", "schema_drops"],
                name="normalise_schema",
            ),
            Node(
                nodes.select_rows,
                inputs=["dialogues", "params:data_engineering.max_rows"],
                outputs=["selected_dialogues", "rows_not_selected"],
                name="select_rows",
            ),
            Node(
                nodes.clean_dialogues,
                inputs=[
                    "selected_dialogues",
                    "params:data_engineering.question_prefix",
                    "params:data_engineering.min_question_chars",
                    "params:data_engineering.min_answer_chars",
                ],
                outputs=["clean_dialogues", "cleaning_stats"],
                name="clean_dialogues",
            ),
            Node(
                nodes.clean_answers,
                inputs=[
                    "clean_dialogues",
                    "params:data_engineering.strip_referral_lines",
                    "params:data_engineering.strip_greetings",
                    "params:data_engineering.stock_sentence_min_answers",
                    "params:data_engineering.stock_sentence_min_share",
                    "params:data_engineering.min_answer_words",
                    "params:data_engineering.max_questions_per_answer",
                    "params:data_engineering.strip_dose_sentences",
                ],
                outputs=["clean_answer_dialogues", "answer_cleaning_stats"],
                name="clean_answers",
            ),
            Node(
                nodes.split_by_question,
                inputs=[
                    "clean_answer_dialogues",
                    "params:data_engineering.validation_fraction",
                    "params:data_engineering.test_fraction",
                    "params:data_engineering.split_seed",
                ],
                outputs=["train_dialogues", "validation_dialogues", "test_dialogues"],
                name="split_by_question",
            ),
            Node(
                nodes.mix_safety_training,
                inputs=[
                    "train_dialogues",
                    "red_flag_training",
                    "red_flag_questions",
                    "params:data_engineering.safety_mix_ratio",
                    "params:data_engineering.split_seed",
                ],
                outputs=["mixed_train_dialogues", "safety_mix_stats"],
                name="mix_safety_training",
            ),
            Node(
                nodes.resolve_prompt_format,
                inputs=[
                    "base_tokenizer",
                    "params:data_engineering.prompt_format",
                    "params:prompt_template",
                    "params:evaluation.system_prompt",
                ],
                outputs="prompt_format",
                name="resolve_prompt_format",
            ),
            Node(
                nodes.apply_prompt_template,
                inputs=[
                    "mixed_train_dialogues",
                    "validation_dialogues",
                    "test_dialogues",
                    "prompt_format",
                ],
                outputs=["train_qa", "validation_qa", "test_qa", "train_text"],
                name="apply_prompt_template",
            ),
            Node(
                nodes.build_data_quality_report,
                inputs=[
                    "raw_dialogues",
                    "schema_drops",
                    "rows_not_selected",
                    "cleaning_stats",
                    "answer_cleaning_stats",
                    "safety_mix_stats",
                    "train_qa",
                    "validation_qa",
                    "test_qa",
                ],
                outputs="data_quality_report",
                name="build_data_quality_report",
            ),
        ]
    )
