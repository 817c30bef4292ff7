"""``python -m llm_finetune.chat``: the terminal chat (:mod:`llm_finetune.chat.terminal`)."""

import sys

from llm_finetune.chat.terminal import main

if __name__ == "__main__":
    sys.exit(main())
