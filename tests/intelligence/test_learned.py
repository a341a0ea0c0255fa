import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from intelligence import training
from intelligence.analysis import AnalysisInput, Intent, Sentiment, analyze_text, rule_view
from intelligence.rules import learned

# Invented reviews (none comes from the data files).
_INVENTED = [
    ("Чайник перестал греть через неделю.", 1, "negative", "quality_defect", "yes"),
    ("После первой стирки разошёлся шов на плече.", 2, "negative", "quality_defect", "yes"),
    ("Брала M, а село как XS, очень узко в груди.", 2, "negative", "size_fit", "yes"),
    ("Заказывала синий, пришёл зелёный.", 1, "negative", "wrong_item", "yes"),
    ("Коробка приехала мокрая и смятая.", 2, "negative", "delivery_packaging", "yes"),
    ("Ткань колючая и сильно пахнет краской.", 2, "negative", "material_smell", "yes"),
    ("Взяла по скидке, за эту цену отличный вариант.", 5, "positive", "price_value", "no"),
    ("Оформила возврат, деньги так и не пришли.", 1, "negative", "return_refund", "yes"),
    ("Всё отлично, спасибо продавцу!", 5, "positive", "praise", "no"),
    ("Очень довольна, буду заказывать ещё.", 5, "positive", "praise", "no"),
    ("Ребёнку книга показалась скучной.", 3, "neutral", "other", "yes"),
    ("Вкусно, но слишком сладко.", 4, "neutral", "material_smell", "yes"),
]


def _write_labelled(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "text", "rating", "sentiment", "intent", "needs_response", "channel"]
        )
        for n, (text, rating, sentiment, intent, needs) in enumerate(_INVENTED):
            writer.writerow([f"inv-{n}", text, rating, sentiment, intent, needs, "review"])
    return path


def _write_reviews(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "rating", "sentiment", "source"])
        for n, (text, rating) in enumerate(
            [
                ("Отличный товар, рекомендую.", 5),
                ("Сломался на второй день, ужас.", 1),
                ("Нормально, но могло быть лучше.", 3),
                ("Хорошо, спасибо.", 4),
                ("Не работает, деньги на ветер.", 2),
            ]
        ):
            sentiment = "positive" if rating >= 4 else "neutral" if rating == 3 else "negative"
            writer.writerow([f"rev-{n}", text, rating, sentiment, "invented"])
    return path


def test_train_analyzer_is_reproducible(tmp_path):
    labelled = _write_labelled(tmp_path / "dev.csv")
    reviews = _write_reviews(tmp_path / "reviews.csv")

    first = training.train_analyzer([labelled], reviews_path=reviews)
    second = training.train_analyzer([labelled], reviews_path=reviews)

    assert first.model.to_json() == second.model.to_json()
    assert (first.labelled_rows, first.weak_rows) == (12, 5)


def test_self_training_widens_only_the_intent_head_with_confident_unlabelled_rows(tmp_path):
    labelled = _write_labelled(tmp_path / "dev.csv")
    reviews = _write_reviews(tmp_path / "reviews.csv")
    plain = training.train_analyzer(
        [labelled], reviews_path=reviews, config=training.Config(pseudo_threshold=0.0)
    ).model
    rows = training.read_rows(reviews, labelled=False)
    unlabelled = list(zip(rows, training.views(rows), strict=True))

    confident = training.pseudo_labelled(plain, unlabelled, 0.7)
    widened = training.train_analyzer(
        [labelled], reviews_path=reviews, config=training.Config(pseudo_threshold=0.7)
    ).model

    # A first fit on twelve rows is sure of a few unlabelled reviews, not of all of them.
    assert 0 < len(confident) < len(unlabelled)
    assert all(
        (row.sentiment, row.intent, row.needs_response == "yes") == plain.verdicts(view)
        for row, view in confident
    )
    assert training.pseudo_labelled(plain, unlabelled, 1.0) == []
    assert widened.heads["intent"] != plain.heads["intent"]
    for head in ("weak_sentiment", "sentiment", "needs_response"):
        assert widened.heads[head] == plain.heads[head]


def test_train_analyzer_seed_changes_the_weights(tmp_path):
    labelled = _write_labelled(tmp_path / "dev.csv")
    config = training.Config(weak=False)

    first = training.train_analyzer([labelled], reviews_path=None, config=config)
    other = training.train_analyzer(
        [labelled], reviews_path=None, config=training.with_config(config, seed=7)
    )

    assert first.model.to_json() != other.model.to_json()


def test_weights_round_trip_through_the_file(tmp_path):
    labelled = _write_labelled(tmp_path / "dev.csv")
    model = training.train_analyzer(
        [labelled], reviews_path=None, config=training.Config(weak=False)
    ).model
    path = tmp_path / "weights.json"

    learned.dump(model, path)
    loaded = learned.load(path)

    view = rule_view(
        AnalysisInput(channel="review", marketplace="wb", text="Шов разошёлся", rating=2)
    )
    assert loaded.to_json() == json.loads(path.read_text(encoding="utf-8"))
    assert loaded.verdicts(view) == model.verdicts(view)


def test_fit_head_learns_a_separable_problem():
    rows = [{"w:хороший": 1.0}, {"w:плохой": 1.0}] * 10
    labels = ["positive", "negative"] * 10

    head = training.fit_head(
        rows, labels, ("negative", "positive"), l2=0.0, epochs=10, learning_rate=0.5, seed=1
    )

    assert [head.predict(row) for row in rows[:2]] == ["positive", "negative"]


def test_exact_fit_learns_two_and_three_classes_and_never_predicts_an_unseen_class():
    rows = [{"w:хороший": 1.0}, {"w:плохой": 1.0}, {"w:обычный": 1.0}] * 10
    labels = ["positive", "negative", "neutral"] * 10

    three = training.fit_head_exact(rows, labels, ("negative", "neutral", "positive"), l2=1e-3)
    two = training.fit_head_exact(
        rows[:2] * 10, labels[:2] * 10, ("negative", "neutral", "positive"), l2=1e-3
    )

    assert [three.predict(row) for row in rows[:3]] == ["positive", "negative", "neutral"]
    assert [two.predict(row) for row in rows[:2]] == ["positive", "negative"]
    assert two.probabilities({"w:обычный": 1.0})["neutral"] < 1e-6
    # The two-class fit is the same model written as two logits: probabilities still add up.
    assert two.probabilities(rows[0])["positive"] > 0.9


def test_train_fits_the_exact_heads_by_l_bfgs_and_the_others_by_sgd(tmp_path):
    labelled = _write_labelled(tmp_path / "dev.csv")
    default = training.train_analyzer(
        [labelled], reviews_path=None, config=training.Config(weak=False)
    ).model
    sgd = training.train_analyzer(
        [labelled], reviews_path=None, config=training.Config(weak=False, exact_heads=frozenset())
    ).model

    assert default.heads["sentiment"] != sgd.heads["sentiment"]
    assert default.heads["needs_response"] == sgd.heads["needs_response"]


def test_shipped_model_loads_with_every_head():
    model = learned.default_model()

    assert model is not None
    assert set(model.heads) == {learned.WEAK_HEAD, *learned.HEADS}
    assert set(model.heads["sentiment"].classes) == {s.value for s in Sentiment}
    assert set(model.heads["intent"].classes) == {i.value for i in Intent}


def test_shipped_model_holds_lemmas_not_texts():
    model = learned.default_model()
    assert model is not None

    names = {name for head in model.heads.values() for name in head.weights}

    assert all(len(name.split(" ")) <= 2 for name in names)
    assert max(len(name) for name in names) < 60


@pytest.mark.parametrize(
    ("text", "rating", "intent"),
    [
        ("Чайник перестал греть через неделю.", 1, "quality_defect"),
        ("Заказывала синий, пришёл зелёный.", 2, "wrong_item"),
        ("Коробка приехала мокрая и смятая.", 2, "delivery_packaging"),
        ("Ткань колючая и сильно пахнет краской.", 2, "material_smell"),
        ("Оформила возврат неделю назад, деньги так и не пришли.", 1, "return_refund"),
        ("Брала M, а село как XS, очень узко в груди.", 2, "size_fit"),
    ],
)
def test_analyze_text_clear_invented_complaint_gets_its_intent(text, rating, intent):
    result = analyze_text(
        AnalysisInput(channel="review", marketplace="wb", text=text, rating=rating)
    )

    assert (result.sentiment, result.intent, result.needs_response) == ("negative", intent, True)


def test_analyze_text_review_asking_a_question_stays_a_question():
    result = analyze_text(
        AnalysisInput(
            channel="review",
            marketplace="wb",
            text="Подскажите, можно ли мыть в посудомойке?",
            rating=5,
        )
    )

    assert (result.intent, result.needs_response) == ("product_question", True)


@pytest.mark.parametrize("rating", [1, 5])
def test_analyze_text_unevaluated_review_stays_neutral_whatever_the_stars(rating):
    result = analyze_text(
        AnalysisInput(
            channel="review",
            marketplace="wb",
            text="Купила в подарок, ещё не пробовала.",
            rating=rating,
        )
    )

    assert result.sentiment == "neutral"


def test_train_analyzer_command_refuses_the_measurement_set(tmp_path):
    labelled = _write_labelled(tmp_path / "labelled.csv")

    with pytest.raises(CommandError, match="measurement only"):
        call_command("train_analyzer", "--labels", str(labelled), "--no-weak", stdout=StringIO())


def test_train_analyzer_command_writes_weights_and_cross_validates(tmp_path):
    labelled = _write_labelled(tmp_path / "dev.csv")
    output = tmp_path / "weights.json"
    out = StringIO()

    call_command(
        "train_analyzer",
        "--labels",
        str(labelled),
        "--no-weak",
        "--folds",
        "3",
        "--output",
        str(output),
        stdout=out,
    )

    report = json.loads(out.getvalue())
    assert report["labelled_rows"] == 12
    assert set(report["cross_validation"]) == {
        "rows",
        "sentiment_macro_f1",
        "intent_accuracy",
        "needs_response_accuracy",
    }
    assert set(learned.load(output).heads) == set(learned.HEADS)
