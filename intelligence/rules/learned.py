"""The learned layer of the ``rules`` analyser: linear softmax models over rule features.

The rules engine turns a text into negation-marked lemma keys, cue scores and its own verdicts.
``features`` maps those to a sparse feature vector; ``LinearModel`` holds one multinomial
logistic regression per head (``sentiment``, ``intent``, ``needs_response``), trained offline by
``intelligence.training`` and stored as JSON beside this module. Inference is a dot product:
no new dependency, deterministic, and fast enough to run inside a request.

The weights file holds feature names (lemmas, lemma pairs, cue labels) and numbers, no texts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from intelligence.rules.matcher import BOUNDARY

WEIGHTS_PATH = Path(__file__).with_name("weights.json")
FORMAT_VERSION = 1

# Heads in the order they are computed; the weak sentiment head (trained on star ratings of
# unlabelled reviews) feeds its probabilities to the others.
WEAK_HEAD = "weak_sentiment"
HEADS: tuple[str, ...] = ("sentiment", "intent", "needs_response")

# Feature-name prefixes.
WORD = "w:"
PAIR = "p:"
SCORE = "s:"
# Cue scores only the rules act on: a fire or electric hazard says nothing of tone or topic.
RULE_ONLY_SCORES: frozenset[str] = frozenset({"hazard"})
STAR = "star:"
RULE = "r:"
WEAK = "weak:"
_LENGTH = "len:"
_QUESTION = "qm"
_MAX_LENGTH_BUCKET = 7


@dataclass(frozen=True, slots=True)
class RuleView:
    """What the rules engine saw and decided for one text: the input of the learned layer."""

    keys: tuple[str, ...]
    scores: Mapping[str, float]
    questions: int
    rating: int | None
    sentiment: str
    intent: str
    needs_response: bool
    # The rules are certain of the sentiment (an unevaluated or "it's OK" text).
    is_settled: bool = False


def text_features(view: RuleView, *, pairs: bool = True) -> dict[str, float]:
    """Features that depend on the text only (no stars, no rule verdicts)."""
    feats: dict[str, float] = {}
    previous = ""
    content = 0
    for key in view.keys:
        if key == BOUNDARY:
            previous = ""
            continue
        content += 1
        feats[WORD + key] = 1.0
        if pairs and previous:
            feats[PAIR + previous + " " + key] = 1.0
        previous = key
    for name, value in view.scores.items():
        if value and name.rpartition(":")[2] not in RULE_ONLY_SCORES:  # also "tail:hazard"
            feats[SCORE + name] = math.copysign(math.log1p(abs(value)), value)
    feats[_LENGTH + str(min(int(math.log2(content + 1)), _MAX_LENGTH_BUCKET))] = 1.0
    if view.questions:
        feats[_QUESTION] = float(min(view.questions, 2))
    return feats


def features(
    view: RuleView, *, pairs: bool = True, text: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Text features (``text`` if already computed) plus the stars and the rules' verdicts."""
    feats = dict(text) if text is not None else text_features(view, pairs=pairs)
    star = str(view.rating) if view.rating is not None else "none"
    feats[STAR + star] = 1.0
    # The same words weigh differently under three stars than under five: the rules' verdict
    # crossed with the stars lets the model learn where the rules go wrong.
    feats[STAR + star + ":" + view.sentiment] = 1.0
    pos = max(view.scores.get("pos", 0.0), 0.0)
    neg = max(view.scores.get("neg", 0.0), 0.0)
    balance = (pos - neg) / (pos + neg + 1.0)
    feats[SCORE + "balance"] = balance
    # Neutral sits in the middle of the balance, which no single linear weight can express:
    # a one-hot bin of the balance (and of the praise/complaint overlap) can.
    feats[SCORE + "balance~" + str(round(balance * 5))] = 1.0
    feats[SCORE + "mixed"] = math.log1p(min(pos, neg))
    feats[RULE + "sentiment=" + view.sentiment] = 1.0
    feats[RULE + "intent=" + view.intent] = 1.0
    feats[RULE + "needs=" + ("yes" if view.needs_response else "no")] = 1.0
    return feats


@dataclass(frozen=True, slots=True)
class Head:
    """One multinomial logistic regression: per-class bias and per-feature class weights."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]

    def logits(self, feats: Mapping[str, float]) -> list[float]:
        return _dot(self.bias, self.weights, feats)

    def probabilities(self, feats: Mapping[str, float]) -> dict[str, float]:
        logits = self.logits(feats)
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.classes, exps, strict=True)}

    def predict(self, feats: Mapping[str, float]) -> str:
        return _argmax(self.classes, self.logits(feats))

    def to_json(self) -> dict[str, object]:
        return {
            "classes": list(self.classes),
            "bias": [round(b, 4) for b in self.bias],
            "weights": {
                name: [round(w, 4) for w in row] for name, row in sorted(self.weights.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Head:
        classes = tuple(str(c) for c in _list(data["classes"]))
        bias = _numbers(data["bias"])
        raw = data["weights"]
        if not isinstance(raw, Mapping):
            raise ValueError("weights must be an object")
        weights = {str(k): _numbers(v) for k, v in raw.items()}
        if len(bias) != len(classes) or any(len(r) != len(classes) for r in weights.values()):
            raise ValueError("every weight row needs one value per class")
        return cls(classes=classes, bias=bias, weights=weights)


def _dot(
    bias: Sequence[float], weights: Mapping[str, Sequence[float]], feats: Mapping[str, float]
) -> list[float]:
    # Gather the rows once and sum them column by column: zip(*rows) runs in C, which is
    # several times faster than updating the logits row by row.
    get = weights.get
    rows: list[Sequence[float]] = [bias]
    for name, value in feats.items():
        row = get(name)
        if row is None:
            continue
        rows.append(row if value == 1.0 else [w * value for w in row])
    return [sum(column) for column in zip(*rows, strict=True)]


def _argmax(classes: Sequence[str], logits: Sequence[float]) -> str:
    return classes[max(range(len(logits)), key=logits.__getitem__)]


def _numbers(value: object) -> tuple[float, ...]:
    items = _list(value)
    if not all(isinstance(item, int | float) for item in items):
        raise ValueError("expected a list of numbers")
    return tuple(float(item) for item in items)  # type: ignore[arg-type]


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


@dataclass(frozen=True, slots=True)
class LinearModel:
    heads: Mapping[str, Head]
    pairs: bool = True
    # The three verdict heads share one feature vector, so their rows are joined into one
    # table and scored in a single pass: (bias, weights, slice of each head).
    _joint: tuple[
        tuple[float, ...], Mapping[str, tuple[float, ...]], Mapping[str, tuple[int, int]]
    ] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spans: dict[str, tuple[int, int]] = {}
        start = 0
        for name in HEADS:
            if name in self.heads:
                size = len(self.heads[name].classes)
                spans[name] = (start, start + size)
                start += size
        bias: list[float] = []
        for name in spans:
            bias.extend(self.heads[name].bias)
        names = {feature for name in spans for feature in self.heads[name].weights}
        joint: dict[str, tuple[float, ...]] = {}
        for feature in names:
            row: list[float] = []
            for name in spans:
                head = self.heads[name]
                row.extend(head.weights.get(feature) or (0.0,) * len(head.classes))
            joint[feature] = tuple(row)
        object.__setattr__(self, "_joint", (tuple(bias), joint, spans))

    def with_weak(self, view: RuleView) -> dict[str, float]:
        """The full feature vector of one text, with the weak sentiment head's output."""
        text = text_features(view, pairs=self.pairs)
        feats = features(view, pairs=self.pairs, text=text)
        weak = self.heads.get(WEAK_HEAD)
        if weak is not None:
            # The weak head guesses the star rating from the text alone; where the text reads
            # lower or higher than the stars given is where the stars mislead.
            probabilities = weak.probabilities(text)
            for label, p in probabilities.items():
                feats[WEAK + label] = p
            expected = sum(int(label) * p for label, p in probabilities.items())
            feats[WEAK + "stars"] = (expected - 3.0) / 2.0
            feats[WEAK + "extremity"] = abs(expected - 3.0) / 2.0
            feats[WEAK + "stars~" + str(round(expected * 2))] = 1.0
            if view.rating is not None:
                feats[WEAK + "gap"] = (expected - view.rating) / 2.0
                feats[WEAK + "stars@" + str(view.rating)] = (expected - 3.0) / 2.0
        return feats

    def predict(self, head: str, feats: Mapping[str, float]) -> str:
        return self.heads[head].predict(feats)

    def verdicts(self, view: RuleView) -> tuple[str, str, bool]:
        """Sentiment, intent and whether a reply is needed, for one review."""
        bias, joint, spans = self._joint
        logits = _dot(bias, joint, self.with_weak(view))
        verdict = {
            name: _argmax(self.heads[name].classes, logits[start:end])
            for name, (start, end) in spans.items()
        }
        sentiment = view.sentiment if view.is_settled else verdict["sentiment"]
        # Reviews that mainly ask something are too rare to learn from (questions have their
        # own channel), so the rules' question detection stands.
        intent = view.intent if view.intent == "product_question" else verdict["intent"]
        needs_response = verdict["needs_response"] == "yes"
        # The guide's own consequences: a negative review, a question or a stated shortcoming
        # (also one the rules found inside a positive review) always gets an answer.
        if (
            sentiment == "negative"
            or intent == "product_question"
            or view.scores.get("issue", 0.0) > 0.0
            or (
                view.needs_response
                and view.sentiment == "positive"
                and view.intent not in ("praise", "other")
            )
        ):
            needs_response = True
        return sentiment, intent, needs_response

    def to_json(self) -> dict[str, object]:
        return {
            "version": FORMAT_VERSION,
            "pairs": self.pairs,
            "heads": {name: head.to_json() for name, head in self.heads.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LinearModel:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported weights format {data.get('version')!r}")
        raw = data["heads"]
        if not isinstance(raw, Mapping):
            raise ValueError("heads must be an object")
        heads = {str(name): Head.from_json(head) for name, head in raw.items()}
        missing = [name for name in HEADS if name not in heads]
        if missing:
            raise ValueError(f"missing heads: {', '.join(missing)}")
        return cls(heads=heads, pairs=bool(data.get("pairs", True)))


def dump(model: LinearModel, path: Path) -> None:
    """Write ``model`` as compact, stable JSON (sorted keys, one line per feature row)."""
    data = model.to_json()
    path.write_text(_stable_json(data) + "\n", encoding="utf-8")


def _stable_json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def load(path: Path) -> LinearModel:
    with path.open(encoding="utf-8") as handle:
        return LinearModel.from_json(json.load(handle))


@lru_cache(maxsize=1)
def default_model() -> LinearModel | None:
    """The shipped model, loaded once per process; ``None`` when no weights file exists."""
    if not WEIGHTS_PATH.is_file():
        return None
    return load(WEIGHTS_PATH)


def vocabulary(rows: Iterable[Mapping[str, float]], *, min_count: int) -> frozenset[str]:
    """Feature names present in at least ``min_count`` rows."""
    counts: dict[str, int] = {}
    for feats in rows:
        for name in feats:
            counts[name] = counts.get(name, 0) + 1
    return frozenset(name for name, n in counts.items() if n >= min_count)
