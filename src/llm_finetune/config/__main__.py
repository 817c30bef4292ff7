"""``python -m llm_finetune.config write-defaults | check-defaults``: (re)generate
conf/base/parameters_*.yml from the settings classes, or fail when they differ from them."""

from __future__ import annotations

import sys

from llm_finetune.config.defaults import stale_defaults, write_defaults


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "write-defaults":
        for path in write_defaults():
            print(f"wrote {path}")
        return 0
    if command == "check-defaults":
        stale = stale_defaults()
        for path in stale:
            print(f"{path} differs from the settings classes: run write-defaults", file=sys.stderr)
        return 1 if stale else 0
    print("usage: python -m llm_finetune.config write-defaults | check-defaults", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
