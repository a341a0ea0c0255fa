"""Quality metrics of the analyser against hand labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Mean F1 over ``labels`` that occur in gold or predicted values."""
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return round(sum(scores) / len(scores), 4) if scores else 0.0


def accuracy(gold: Sequence[Any], predicted: Sequence[Any]) -> float:
    if not gold:
        return 0.0
    hits = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    return round(hits / len(gold), 4)


def confusion(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Rows are gold labels, columns predicted labels."""
    counts = Counter(zip(gold, predicted, strict=True))
    return {g: {p: counts[(g, p)] for p in labels} for g in labels}
