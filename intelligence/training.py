"""Offline training of the learned layer of the ``rules`` analyser (see ``rules/learned.py``).

Hand-labelled development files (sampled from ``reviews.csv`` and labelled by the guide) train
the ``sentiment``, ``intent`` and ``needs_response`` heads. Optionally the unlabelled reviews with
their star-derived sentiment train a ``weak_sentiment`` head on text features alone, whose
probabilities the other heads take as features; rows that appear in a labelled file are left out
of it, so cross-validation on the labelled files stays honest. The same unlabelled reviews then
widen the intent head's training set: the rows a first fit labels with confidence in every head
join it with those labels, and the intent head is fitted again (self-training).

Each head is a multinomial logistic regression with L2. The sentiment head is fitted exactly
(scikit-learn's L-BFGS); the others by a pure-Python AdaGrad SGD with Polyak averaging, shuffled
by a seeded ``random.Random``, whose early-stopped fit cross-validated better for them. The same
inputs and seed always give the same weights.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from intelligence.analysis import AnalysisInput, Channel, Intent, Sentiment, rule_view
from intelligence.metrics import accuracy, macro_f1
from intelligence.rules import learned

SENTIMENTS: tuple[str, ...] = tuple(s.value for s in Sentiment)
INTENTS: tuple[str, ...] = tuple(i.value for i in Intent)
NEEDS: tuple[str, ...] = ("no", "yes")
STARS: tuple[str, ...] = ("1", "2", "3", "4", "5")
_MIN_WEIGHT = 2e-3
# Feature families always kept whatever their frequency: cue scores, stars, rule verdicts.
_DENSE_PREFIXES: tuple[str, ...] = (
    learned.SCORE,
    learned.STAR,
    learned.RULE,
    learned.WEAK,
    "len:",
    "qm",
)


@dataclass(frozen=True, slots=True)
class Config:
    """Hyper-parameters; the defaults are the ones chosen by cross-validation."""

    l2: float = 1e-2
    epochs: int = 12
    learning_rate: float = 0.1
    min_count: int = 2
    pairs: bool = True
    # Class weights (n / (k * n_class)) ** balance per head: 0 is plain, 1 fully balanced.
    # Sentiment is scored by macro-F1, where the rare neutral class weighs as much as the others.
    sentiment_balance: float = 1.0
    intent_balance: float = 0.0
    # Heads fitted to the optimum rather than by SGD: for sentiment, cross-validated macro-F1
    # rose from 0.784 to 0.795 (three fold seeds); intent and needs_response fell.
    exact_heads: frozenset[str] = frozenset({"sentiment"})
    weak: bool = True
    weak_l2: float = 1e-3
    weak_epochs: int = 6
    weak_min_count: int = 8
    # Self-training: an unlabelled review joins the training rows when every head's top
    # probability reaches this (0 turns it off).
    pseudo_threshold: float = 0.95
    seed: int = 20261126


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    text: str
    rating: int | None
    sentiment: str
    intent: str
    needs_response: str


def read_rows(path: Path, *, labelled: bool = True) -> list[Row]:
    """Rows of a CSV with ``id``, ``text``, ``rating`` and (if ``labelled``) the label columns.

    Unlabelled rows (``reviews.csv``) carry their star-derived ``sentiment`` column and no intent.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        out = []
        for row in csv.DictReader(handle):
            rating = (row.get("rating") or "").strip()
            out.append(
                Row(
                    id=row.get("id") or "",
                    text=row.get("text") or "",
                    rating=int(float(rating)) if rating else None,
                    sentiment=(row.get("sentiment") or "").strip(),
                    intent=(row.get("intent") or "").strip() if labelled else "",
                    needs_response=(row.get("needs_response") or "").strip().lower()
                    if labelled
                    else "",
                )
            )
        return out


def views(rows: Iterable[Row]) -> list[learned.RuleView]:
    return [
        rule_view(
            AnalysisInput(channel=Channel.REVIEW, marketplace="wb", text=r.text, rating=r.rating)
        )
        for r in rows
    ]


# --- the optimiser ------------------------------------------------------------------------


def fit_head(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[str],
    classes: Sequence[str],
    *,
    l2: float,
    epochs: int,
    learning_rate: float,
    seed: int,
    balance: float = 0.0,
    keep: frozenset[str] | None = None,
) -> learned.Head:
    """Multinomial logistic regression by AdaGrad SGD; ``keep`` limits the sparse features."""
    size = len(classes)
    index = {label: i for i, label in enumerate(classes)}
    targets = [index[label] for label in labels]
    weight_of = class_weights(targets, size, balance)
    data = [
        [(name, value) for name, value in feats.items() if keep is None or name in keep]
        for feats in rows
    ]
    bias = [0.0] * size
    bias_g = [1e-8] * size
    weights: dict[str, list[float]] = {}
    grads: dict[str, list[float]] = {}
    order = list(range(len(data)))
    rng = random.Random(seed)
    # Polyak averaging over the epochs of the second half smooths the SGD noise.
    averaged_from = epochs // 2
    sum_bias = [0.0] * size
    sums: dict[str, list[float]] = {}
    for epoch in range(epochs):
        if epoch > averaged_from:
            _accumulate(sum_bias, sums, bias, weights)
        rng.shuffle(order)
        for i in order:
            x = data[i]
            logits = list(bias)
            for name, value in x:
                row = weights.get(name)
                if row is not None:
                    for c in range(size):
                        logits[c] += row[c] * value
            top = max(logits)
            exps = [math.exp(v - top) for v in logits]
            total = sum(exps)
            scale = weight_of[targets[i]]
            delta = [scale * (e / total) for e in exps]
            delta[targets[i]] -= scale
            for c in range(size):
                bias_g[c] += delta[c] * delta[c]
                bias[c] -= learning_rate * delta[c] / math.sqrt(bias_g[c])
            for name, value in x:
                row = weights.get(name)
                if row is None:
                    row = weights[name] = [0.0] * size
                    grads[name] = [1e-8] * size
                acc = grads[name]
                for c in range(size):
                    g = delta[c] * value + l2 * row[c]
                    acc[c] += g * g
                    row[c] -= learning_rate * g / math.sqrt(acc[c])
    _accumulate(sum_bias, sums, bias, weights)
    count = epochs - averaged_from
    pruned = {
        name: tuple(w / count for w in row)
        for name, row in sums.items()
        # Weights this small change no verdict; dropping them keeps the file small.
        if max(abs(w) for w in row) / count >= _MIN_WEIGHT
    }
    return learned.Head(
        classes=tuple(classes), bias=tuple(b / count for b in sum_bias), weights=pruned
    )


def class_weights(targets: Sequence[int], size: int, balance: float) -> list[float]:
    """Per-class row weights (n / (k * n_class)) ** balance: 0 is plain, 1 fully balanced."""
    counts = Counter(targets)
    return [
        (len(targets) / (size * counts[c])) ** balance if counts[c] else 1.0 for c in range(size)
    ]


def fit_head_exact(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[str],
    classes: Sequence[str],
    *,
    l2: float,
    balance: float = 0.0,
    keep: frozenset[str] | None = None,
) -> learned.Head:
    """The same model as ``fit_head`` (``l2`` per row, class weights by ``balance``), fitted
    to its optimum by L-BFGS."""
    index = {label: i for i, label in enumerate(classes)}
    targets = [index[label] for label in labels]
    weight_of = class_weights(targets, len(classes), balance)
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(
        [{n: v for n, v in feats.items() if keep is None or n in keep} for feats in rows]
    )
    fitted = LogisticRegression(C=1.0 / (l2 * len(labels)), max_iter=5000, tol=1e-6).fit(
        matrix,
        list(labels),
        sample_weight=[weight_of[t] for t in targets],
    )
    coef, intercept = fitted.coef_, fitted.intercept_
    if len(fitted.classes_) == 2:
        # A binary fit has one row, the second class's logit against the first's.
        coef = [-coef[0] / 2, coef[0] / 2]
        intercept = [-intercept[0] / 2, intercept[0] / 2]
    # A class absent from the labels can never win.
    position = {str(label): n for n, label in enumerate(fitted.classes_)}
    order = [position.get(c) for c in classes]
    weights: dict[str, tuple[float, ...]] = {}
    for column, name in enumerate(vectorizer.get_feature_names_out()):
        row = tuple(0.0 if n is None else float(coef[n][column]) for n in order)
        if max(abs(w) for w in row) >= _MIN_WEIGHT:
            weights[str(name)] = row
    bias = tuple(-1e3 if n is None else float(intercept[n]) for n in order)
    return learned.Head(classes=tuple(classes), bias=bias, weights=weights)


def _accumulate(
    sum_bias: list[float],
    sums: dict[str, list[float]],
    bias: list[float],
    weights: Mapping[str, list[float]],
) -> None:
    for c, b in enumerate(bias):
        sum_bias[c] += b
    for name, row in weights.items():
        total = sums.setdefault(name, [0.0] * len(row))
        for c, w in enumerate(row):
            total[c] += w


def _keep(rows: Sequence[Mapping[str, float]], min_count: int) -> frozenset[str]:
    frequent = learned.vocabulary(rows, min_count=min_count)
    dense = {name for feats in rows for name in feats if name.startswith(_DENSE_PREFIXES)}
    return frequent | frozenset(dense)


# --- training -----------------------------------------------------------------------------


def train_weak(
    weak_views: Sequence[learned.RuleView], stars: Sequence[str], config: Config
) -> learned.Head:
    """Text-only head that guesses the star rating (1-5) of unlabelled reviews."""
    rows = [learned.text_features(v, pairs=config.pairs) for v in weak_views]
    return fit_head(
        rows,
        stars,
        STARS,
        l2=config.weak_l2,
        epochs=config.weak_epochs,
        learning_rate=config.learning_rate,
        seed=config.seed,
        keep=_keep(rows, config.weak_min_count),
    )


def train(
    labelled_views: Sequence[learned.RuleView],
    labelled: Sequence[Row],
    config: Config,
    weak_head: learned.Head | None = None,
    unlabelled: Sequence[tuple[Row, learned.RuleView]] = (),
) -> learned.LinearModel:
    """Fit the three heads on hand-labelled rows (with the weak head's output if given); with
    ``unlabelled`` reviews, fit the intent head again on the ones the first fit is sure of."""
    model = _fit(labelled_views, labelled, config, weak_head)
    if not config.pseudo_threshold or not unlabelled:
        return model
    confident = pseudo_labelled(model, unlabelled, config.pseudo_threshold)
    return _fit(labelled_views, labelled, config, weak_head, confident, fitted=model)


def pseudo_labelled(
    model: learned.LinearModel,
    unlabelled: Sequence[tuple[Row, learned.RuleView]],
    threshold: float,
) -> list[tuple[Row, learned.RuleView]]:
    """The unlabelled rows whose every head is at least ``threshold`` sure, with the model's
    verdicts as their labels."""
    out = []
    for row, view in unlabelled:
        feats = model.with_weak(view)
        if any(
            max(model.heads[h].probabilities(feats).values()) < threshold for h in learned.HEADS
        ):
            continue
        sentiment, intent, needs_response = model.verdicts(view)
        labels = replace(
            row, sentiment=sentiment, intent=intent, needs_response=NEEDS[needs_response]
        )
        out.append((labels, view))
    return out


def _fit(
    labelled_views: Sequence[learned.RuleView],
    labelled: Sequence[Row],
    config: Config,
    weak_head: learned.Head | None,
    pseudo: Sequence[tuple[Row, learned.RuleView]] = (),
    fitted: learned.LinearModel | None = None,
) -> learned.LinearModel:
    """One fit of the three heads, or with ``fitted``, of the intent head alone (the others
    are taken from it). ``pseudo`` rows train the intent head only: in cross-validation they
    raised intent accuracy and left sentiment and needs_response as they were."""
    heads: dict[str, learned.Head] = {}
    if weak_head is not None:
        heads[learned.WEAK_HEAD] = weak_head
    # Features are computed through the model so that training and inference cannot drift.
    base = learned.LinearModel(heads=dict(heads), pairs=config.pairs)
    rows = [base.with_weak(v) for v in labelled_views]
    pseudo_rows = [base.with_weak(view) for _, view in pseudo]
    targets = {
        "sentiment": (rows, [r.sentiment for r in labelled], SENTIMENTS),
        "intent": (
            rows + pseudo_rows,
            [r.intent for r in labelled] + [r.intent for r, _ in pseudo],
            INTENTS,
        ),
        "needs_response": (rows, [r.needs_response for r in labelled], NEEDS),
    }
    for offset, head in enumerate(learned.HEADS):
        if fitted is not None and head != "intent":
            heads[head] = fitted.heads[head]
            continue
        head_rows, labels, classes = targets[head]
        keep = _keep(head_rows, config.min_count)
        balance = {
            "sentiment": config.sentiment_balance,
            "intent": config.intent_balance,
        }.get(head, 0.0)
        if head in config.exact_heads:
            heads[head] = fit_head_exact(
                head_rows, labels, classes, l2=config.l2, balance=balance, keep=keep
            )
            continue
        heads[head] = fit_head(
            head_rows,
            labels,
            classes,
            l2=config.l2,
            epochs=config.epochs,
            learning_rate=config.learning_rate,
            seed=config.seed + offset,
            balance=balance,
            keep=keep,
        )
    return learned.LinearModel(heads=heads, pairs=config.pairs)


@dataclass(frozen=True, slots=True)
class Scores:
    sentiment_macro_f1: float
    intent_accuracy: float
    needs_response_accuracy: float
    rows: int

    def as_dict(self) -> dict[str, float]:
        return {
            "rows": self.rows,
            "sentiment_macro_f1": self.sentiment_macro_f1,
            "intent_accuracy": self.intent_accuracy,
            "needs_response_accuracy": self.needs_response_accuracy,
        }


def score(
    model: learned.LinearModel | None,
    test_views: Sequence[learned.RuleView],
    test: Sequence[Row],
) -> Scores:
    """Quality of ``model`` (or of the rules alone when ``None``) on labelled rows."""
    predicted = [
        model.verdicts(v) if model else (v.sentiment, v.intent, v.needs_response)
        for v in test_views
    ]
    return _scores(predicted, test)


def _scores(predicted: Sequence[tuple[str, str, bool]], rows: Sequence[Row]) -> Scores:
    """Verdicts (sentiment, intent, needs_response) against the labels of ``rows``."""
    return Scores(
        sentiment_macro_f1=macro_f1(
            [r.sentiment for r in rows], [p[0] for p in predicted], SENTIMENTS
        ),
        intent_accuracy=accuracy([r.intent for r in rows], [p[1] for p in predicted]),
        needs_response_accuracy=accuracy(
            [r.needs_response == "yes" for r in rows], [p[2] for p in predicted]
        ),
        rows=len(rows),
    )


def cross_validate(
    labelled_views: Sequence[learned.RuleView],
    labelled: Sequence[Row],
    config: Config,
    *,
    folds: int = 5,
    weak_head: learned.Head | None = None,
    unlabelled: Sequence[tuple[Row, learned.RuleView]] = (),
) -> tuple[Scores, Scores]:
    """Pooled out-of-fold scores of the model and, for comparison, of the rules alone."""
    order = list(range(len(labelled)))
    random.Random(config.seed).shuffle(order)
    fold_of = {row: n % folds for n, row in enumerate(order)}
    predicted: list[tuple[str, str, bool]] = [("", "", False)] * len(labelled)
    for fold in range(folds):
        train_idx = [i for i in range(len(labelled)) if fold_of[i] != fold]
        test_idx = [i for i in range(len(labelled)) if fold_of[i] == fold]
        model = train(
            [labelled_views[i] for i in train_idx],
            [labelled[i] for i in train_idx],
            config,
            weak_head,
            unlabelled,
        )
        for i in test_idx:
            predicted[i] = model.verdicts(labelled_views[i])
    return _scores(predicted, labelled), score(None, labelled_views, labelled)


def weak_rows(weak: Sequence[Row], labelled: Sequence[Row]) -> list[Row]:
    """Unlabelled reviews minus every row that a labelled file holds."""
    taken = {r.id for r in labelled} | {" ".join(r.text.lower().split()) for r in labelled}
    return [
        r
        for r in weak
        if r.id not in taken
        and " ".join(r.text.lower().split()) not in taken
        and r.rating is not None
    ]


def with_config(config: Config, **changes: object) -> Config:
    return replace(config, **changes)  # type: ignore[arg-type]


DEV_FILES: tuple[str, ...] = (
    "dev_reviews.csv",
    "dev_reviews_2.csv",
    "dev_reviews_3.csv",
    "dev_reviews_4.csv",
    "dev_reviews_5.csv",
    "dev_reviews_6.csv",
    "dev_reviews_7.csv",
)


@dataclass(frozen=True, slots=True)
class TrainingResult:
    model: learned.LinearModel
    labelled_rows: int
    weak_rows: int
    cross_validation: Scores | None
    rules_alone: Scores | None


def train_analyzer(
    labelled_paths: Sequence[Path],
    *,
    reviews_path: Path | None,
    config: Config = Config(),
    folds: int = 0,
) -> TrainingResult:
    """Train the learned layer from hand-labelled files (and unlabelled reviews for the weak
    head); with ``folds`` >= 2, also cross-validate it on the labelled rows."""
    labelled = [row for path in labelled_paths for row in read_rows(path)]
    labelled_views = views(labelled)
    weak_head = None
    weak: list[Row] = []
    weak_views: list[learned.RuleView] = []
    if config.weak and reviews_path is not None:
        weak = weak_rows(read_rows(reviews_path, labelled=False), labelled)
        weak_views = views(weak)
        weak_head = train_weak(weak_views, [str(r.rating) for r in weak], config)
    unlabelled = list(zip(weak, weak_views, strict=True))
    cv_scores = rules_scores = None
    if folds >= 2:
        cv_scores, rules_scores = cross_validate(
            labelled_views,
            labelled,
            config,
            folds=folds,
            weak_head=weak_head,
            unlabelled=unlabelled,
        )
    model = train(labelled_views, labelled, config, weak_head, unlabelled)
    return TrainingResult(
        model=model,
        labelled_rows=len(labelled),
        weak_rows=len(weak),
        cross_validation=cv_scores,
        rules_alone=rules_scores,
    )
