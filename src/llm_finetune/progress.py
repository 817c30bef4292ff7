"""Progress bars for the steps that take more than a few seconds: counts, rate and time left."""

from __future__ import annotations

from typing import Any

#: Below this many items a step finishes in about a second: no bar.
MIN_ITEMS_FOR_A_BAR = 5_000


def progress_bar(total: int, description: str, unit: str, enabled: bool = True) -> Any:
    """A ``tqdm`` bar of ``total`` ``unit``s (a no-op object when not ``enabled``), on stderr.

    Use as a context manager and call ``update(n)``; redraws at most once a second so that a log
    file collecting stderr stays short.
    """
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        disable=not enabled,
        dynamic_ncols=True,
        mininterval=1.0,
    )
