import pytest
from django.utils.translation import gettext

from intelligence.guardrails import check_reply, similarity

CLEAN = "Здравствуйте! Спасибо за отзыв, нам очень приятно. Будем рады видеть вас снова."


def _categories(text: str, *, marketplace: str = "wb", channel: str = "review") -> set[str]:
    verdict = check_reply(text, marketplace=marketplace, channel=channel)
    return {finding.category for finding in verdict.findings}


def test_check_reply_clean_text_is_ok():
    verdict = check_reply(CLEAN, marketplace="wb", channel="review")

    assert verdict.verdict == "ok"
    assert verdict.findings == ()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Я бот и помогаю продавцу.", "ai_self_reference"),
        ("Отвечает вам бот магазина.", "ai_self_reference"),
        ("Ответ подготовила нейросеть.", "ai_self_reference"),
        ("Как искусственный интеллект, я не могу это знать.", "ai_self_reference"),
        ("As an AI model I cannot help.", "ai_self_reference"),
        ("Не переживайте, мы вернём вам деньги.", "promise"),
        ("Гарантируем, что такого больше не будет.", "promise"),
        ("Мы компенсируем стоимость доставки.", "promise"),
        ("Бесплатно заменим товар.", "promise"),
        ("Вы сами виноваты в поломке.", "blame"),
        ("Похоже, вы неправильно использовали утюг.", "blame"),
        ("Это ваши проблемы.", "dismissive"),
        ("К сожалению, ничем не можем помочь.", "dismissive"),
        ("Подавайте в суд, если хотите.", "legal"),
        ("Жалуйтесь хоть в Роспотребнадзор.", "legal"),
        ("Наш юрист с вами свяжется.", "legal"),
        ("Мы проверили SKU на складе FBO.", "jargon"),
        ("Уточните артикул поставщика.", "jargon"),
        ("Мы создали тикет.", "jargon"),
        ("Подробности на https://example.com/page", "link"),
        ("Заходите на www.example.ru", "link"),
        ("Ищите нас: shop dot ru", "link"),
        ("Подписывайтесь: t.me/shopname", "link"),
        ("Инструкция по ссылке bit.ly/abc12", "link"),
        ("Наш ник — @best_shop", "link"),
        ("Позвоните нам: +7 (916) 123-45-67", "phone"),
        ("Пишите на help@example.com", "email"),
        ("Этот товар дешевле на AliExpress.", "other_marketplace"),
        ("Загляните на Яндекс Маркет.", "other_marketplace"),
        ("Есть у нас на Авито.", "other_marketplace"),
        ("Заказывайте в нашем магазине напрямую.", "other_marketplace"),
        ("Пишите нам в телегу, ответим быстрее.", "other_marketplace"),
        ("Ищите нас в инстаграме.", "other_marketplace"),
        ("Видео сборки есть на ютубе.", "other_marketplace"),
        ("Мы есть в ВК.", "other_marketplace"),
        ("Да это просто говно, а не отзыв.", "profanity"),
        ("Нахер такие отзывы писать.", "profanity"),
        ("Только идиот так стирает.", "profanity"),
        ("Здравствуйте, {name}!", "placeholder"),
        ("Здравствуйте, [ИМЯ]!", "placeholder"),
        ("Спасибо за {{ product }}.", "placeholder"),
        ("Спасибо за покупку <product>.", "placeholder"),
        ("Ваш заказ XXX уже в пути.", "placeholder"),
    ],
)
def test_check_reply_detects_category(text, category):
    assert category in _categories(text)


def test_check_reply_ozon_mention_blocks_only_on_wb():
    text = "Этот товар есть и на Озоне."

    assert "other_marketplace" in _categories(text, marketplace="wb")
    assert _categories(text, marketplace="ozon") == set()


def test_check_reply_wildberries_mention_blocks_only_on_ozon():
    text = "Мы продаём и на Wildberries."

    assert "other_marketplace" in _categories(text, marketplace="ozon")
    assert _categories(text, marketplace="wb") == set()


def test_check_reply_latin_look_alike_letters_are_caught():
    text = "Мы гaрaнтируeм вoзврaт денег."  # Latin a, e, o inside Russian words

    verdict = check_reply(text, marketplace="wb", channel="review")

    assert [f.matched for f in verdict.findings] == ["гaрaнтируeм", "вoзврaт денег"]
    assert verdict.verdict == "block"


def test_check_reply_cyrillic_word_is_not_read_as_latin():
    # "Вот" spelt in Latin look-alikes is "bot": a Cyrillic word is Russian, not a disguise.
    assert check_reply("Вот что мы сделали.", marketplace="wb", channel="review").verdict == "ok"


def test_check_reply_valberis_slang_blocks_only_on_ozon():
    assert "other_marketplace" in _categories("На валберис дешевле.", marketplace="ozon")
    assert "other_marketplace" not in _categories("На валберис дешевле.", marketplace="wb")


def test_check_reply_spaced_out_letters_are_joined():
    verdict = check_reply("Заменим б е с п л а т н о!", marketplace="wb", channel="review")

    assert [(f.category, f.matched) for f in verdict.findings] == [("promise", "б е с п л а т н о")]


def test_check_reply_zero_width_characters_are_ignored():
    text = "Мы бес\u200bплатно заменим."

    verdict = check_reply(text, marketplace="wb", channel="review")

    assert [f.matched for f in verdict.findings] == ["бес\u200bплатно"]


def test_check_reply_yo_and_ye_are_the_same_letter():
    assert "promise" in _categories("Мы вернём деньги.")
    assert "promise" in _categories("Мы вернем деньги.")


def test_check_reply_matches_inflected_forms():
    assert "legal" in _categories("Мы обратимся в прокуратуру.")
    assert "ai_self_reference" in _categories("Ответ написан нейросетью.")
    assert "blame" in _categories("Вы неправильно использовали крем.")


def test_check_reply_spaced_digits_are_a_phone():
    assert "phone" in _categories("Наш номер 8 9 1 6 1 2 3 4 5 6 7")


def test_check_reply_www_with_dots_is_a_link():
    assert "link" in _categories("Сайт w.w.w.shop.ru")


def test_check_reply_chat_is_softer_than_review():
    text = "Мы гарантируем замену."

    review = check_reply(text, marketplace="wb", channel="review")
    chat = check_reply(text, marketplace="wb", channel="chat")

    assert review.verdict == "block"
    assert chat.verdict == "warn"


def test_check_reply_links_block_even_in_chat():
    verdict = check_reply("Смотрите www.example.ru", marketplace="wb", channel="chat")

    assert verdict.verdict == "block"


def test_check_reply_jargon_only_warns():
    verdict = check_reply("Товар лежит на складе FBS.", marketplace="wb", channel="review")

    assert verdict.verdict == "warn"
    assert [f.category for f in verdict.findings] == ["jargon"]


def test_check_reply_stop_words_match_inflections():
    verdict = check_reply(
        "Предлагаем скидку на следующий заказ.",
        marketplace="wb",
        channel="review",
        stop_words=("скидка",),
    )

    assert [(f.category, f.matched) for f in verdict.findings] == [("stop_word", "скидку")]
    assert verdict.verdict == "block"


def test_check_reply_without_stop_words_ignores_the_word():
    verdict = check_reply("Предлагаем скидку.", marketplace="wb", channel="review")

    assert verdict.verdict == "ok"


def test_check_reply_empty_text_blocks():
    verdict = check_reply("   ", marketplace="wb", channel="review")

    assert [f.category for f in verdict.findings] == ["empty"]
    assert verdict.verdict == "block"


def test_check_reply_wb_chat_longer_than_1000_chars_blocks():
    text = "Спасибо. " * 125

    verdict = check_reply(text, marketplace="wb", channel="chat")

    assert [f.category for f in verdict.findings] == ["length"]
    assert verdict.findings[0].span == (1000, len(text))
    assert verdict.findings[0].explanation == gettext(
        "The reply must be between %(low)s and %(high)s characters long."
    ) % {"low": 1, "high": 1000}


def test_check_reply_same_text_fits_a_wb_review():
    text = "Спасибо. " * 125

    assert check_reply(text, marketplace="wb", channel="review").verdict == "ok"


def test_check_reply_ozon_question_over_3000_chars_blocks():
    text = "а" * 3001

    assert _categories(text, marketplace="ozon", channel="question") == {"length"}


def test_check_reply_one_char_review_answer_is_too_short():
    assert _categories("Ы", marketplace="wb", channel="review") == {"length"}


def test_check_reply_spans_point_at_the_original_text():
    text = "Здравствуйте!\u200b Мы ВЕРНЁМ деньги, звоните 8-916-123-45-67."

    verdict = check_reply(text, marketplace="wb", channel="review")

    for finding in verdict.findings:
        start, end = finding.span
        assert text[start:end] == finding.matched
    assert [f.matched for f in verdict.findings] == ["ВЕРНЁМ деньги", "8-916-123-45-67"]


def test_check_reply_findings_carry_explanation_and_suggestion():
    verdict = check_reply("Я бот.", marketplace="wb", channel="review")

    finding = verdict.findings[0]
    assert finding.explanation == gettext(
        "The reply says or hints that it was written by AI or a bot."
    )
    assert finding.suggestion == gettext("Write as the seller's team, in the first person plural.")


def test_check_reply_to_dict_is_json_ready():
    verdict = check_reply("Я бот.", marketplace="wb", channel="review")

    assert verdict.to_dict()["verdict"] == "block"
    assert verdict.to_dict()["findings"][0]["span"] == [0, 5]
    assert verdict.to_dict()["findings"][0]["matched"] == "Я бот"


def test_check_reply_ordinary_words_are_not_flagged():
    text = (
        "Спасибо за отзыв о посуде! Сукно и застёжка в порядке, судя по фото. "
        "Оформить возврат можно в личном кабинете маркетплейса. Вот инструкция: ботинки "
        "и тележку протрите влажной тканью. Нет, херес из Херсона мы не продаём."
    )

    assert check_reply(text, marketplace="wb", channel="review").verdict == "ok"


def test_similarity_identical_texts_is_one():
    assert similarity("Спасибо за отзыв, рады помочь", "Спасибо за отзыв, рады помочь") == 1.0


def test_similarity_unrelated_texts_is_zero():
    assert similarity("Спасибо за отзыв", "Курьер приехал вовремя") == 0.0


def test_similarity_partial_overlap_is_between():
    assert similarity("спасибо за отзыв рады", "спасибо за отзыв жаль") == 0.5
