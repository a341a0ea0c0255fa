import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def _run(*args: str) -> list[dict]:
    out = StringIO()
    call_command(*args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_analyze_text_command_prints_the_analysis():
    [result] = _run(
        "analyze_text",
        "--channel",
        "review",
        "--rating",
        "2",
        "--name",
        "Анна",
        "--product",
        "Чайник",
        "Чайник перестал греть через неделю, брак.",
    )

    assert (result["sentiment"], result["intent"], result["engine"]) == (
        "negative",
        "quality_defect",
        "rules",
    )
    assert "Анна" in result["draft"]


def test_check_reply_command_prints_the_verdict():
    [result] = _run(
        "check_reply",
        "--marketplace",
        "wb",
        "--channel",
        "review",
        "--stop-word",
        "акция",
        "Участвуйте в нашей акции!",
    )

    assert result["verdict"] == "block"
    assert [f["category"] for f in result["findings"]] == ["stop_word"]


def test_evaluate_analyzer_command_prints_one_line_per_row(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        'text,rating,extra\n"Всё отлично, спасибо!",5,x\n"Коробка пришла мятая",2,y\n',
        encoding="utf-8",
    )

    rows = _run("evaluate_analyzer", str(path))

    assert rows == [
        {"sentiment": "positive", "intent": "praise", "priority": "low", "needs_response": False},
        {
            "sentiment": "negative",
            "intent": "delivery_packaging",
            "priority": "high",
            "needs_response": True,
        },
    ]


def test_evaluate_analyzer_command_with_labels_prints_a_summary(tmp_path):
    path = tmp_path / "labelled.csv"
    path.write_text(
        "text,rating,sentiment,intent,needs_response,channel\n"
        '"Всё отлично, спасибо!",5,positive,praise,no,review\n'
        '"Коробка пришла мятая",2,negative,delivery_packaging,yes,review\n'
        '"Маломерит на размер",3,negative,size_fit,yes,review\n',
        encoding="utf-8",
    )

    *rows, summary = _run("evaluate_analyzer", str(path), "--labels")

    assert len(rows) == 3
    assert summary["rows"] == 3
    assert summary["intent_accuracy"] == 1.0
    assert summary["needs_response_accuracy"] == 1.0
    assert summary["sentiment_confusion"]["positive"] == {
        "positive": 1,
        "neutral": 0,
        "negative": 0,
    }
    assert summary["intent_confusion"]["size_fit"]["size_fit"] == 1


def test_evaluate_analyzer_command_missing_file_raises(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("evaluate_analyzer", str(tmp_path / "nope.csv"), stdout=StringIO())


def test_evaluate_analyzer_command_missing_columns_raises(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text\nпривет\n", encoding="utf-8")

    with pytest.raises(CommandError, match="Missing columns: rating"):
        call_command("evaluate_analyzer", str(path), stdout=StringIO())


def test_evaluate_analyzer_command_labels_need_label_columns(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("text,rating\nпривет,5\n", encoding="utf-8")

    with pytest.raises(CommandError, match="Missing columns: intent, needs_response, sentiment"):
        call_command("evaluate_analyzer", str(path), "--labels", stdout=StringIO())
