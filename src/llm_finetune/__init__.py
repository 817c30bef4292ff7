"""Fine-tune small causal language models end to end with Kedro."""

from llm_finetune.offline import apply_offline_defaults

# Before anything imports huggingface_hub: the default path must never touch the network.
apply_offline_defaults()

__version__ = "0.1.0"
