"""Behaviour of the lemma keys the rules engine matches its lexicon against."""

from intelligence.analysis import AnalysisInput, analyze_text
from intelligence.rules.lexicon import CUES, LEMMA_OVERRIDES
from intelligence.rules.matcher import keys_of
from intelligence.rules.morph import fold, lemma

# Lemmas that only some other word form produces ("криво" -> "кривой").
_REACHED_FROM_OTHER_FORMS = frozenset({"кривой"})


def _review(text: str, rating: int | None = None) -> AnalysisInput:
    return AnalysisInput(channel="review", marketplace="wb", text=text, rating=rating)


def test_every_exact_cue_atom_is_a_lemma_the_matcher_can_produce():
    dead = set()
    for pattern, _ in CUES:
        for atom in pattern.split():
            atom = atom.removeprefix("!")
            if atom.endswith("*") or atom in ("|", "но!"):
                continue
            produced = LEMMA_OVERRIDES.get(atom) or lemma(fold(atom))
            if produced != fold(atom) and atom not in _REACHED_FROM_OTHER_FORMS:
                dead.add(f"{atom} -> {produced}")
    assert not dead, sorted(dead)


def test_comparatives_keep_their_own_key():
    assert keys_of("могло быть и лучше") == ["мочь", "быть", "и", "лучше"]
    assert keys_of("стало хуже") == ["стать", "хуже"]


def test_comparative_is_not_praise():
    result = analyze_text(_review("Раньше крем был лучше, теперь хуже впитывается."))

    assert result.sentiment != "positive"


def test_issue_noun_negated_by_a_trailing_verb():
    assert keys_of("недостатков не обнаружено")[0] == "!недостаток"
    assert keys_of("претензий не имею")[0] == "!претензия"
    assert keys_of("проблема не решилась")[0] == "проблема"


def test_no_shortcomings_found_is_praise_without_a_reply():
    result = analyze_text(_review("Отличный чайник, недостатков не обнаружила.", 5))

    assert (result.sentiment, result.intent, result.needs_response) == (
        "positive",
        "praise",
        False,
    )


def test_short_size_forms_are_a_size_remark():
    result = analyze_text(_review("Куртка мала, пришлось вернуть.", 2))
    assert result.intent == "return_refund"

    result = analyze_text(_review("Свитер велик на два размера.", 3))
    assert result.intent == "size_fit"


def test_participle_of_a_defect_counts_as_a_defect():
    result = analyze_text(_review("Попалась бракованная мышка.", 2))

    assert (result.sentiment, result.intent) == ("negative", "quality_defect")


def test_will_not_buy_again_is_negative():
    result = analyze_text(_review("Больше не возьму этот кофе.", 3))

    assert result.sentiment == "negative"


def test_comparative_does_not_match_a_praise_prefix():
    result = analyze_text(_review("Ожидала вкуснее."))

    assert result.sentiment == "negative"


def test_expected_more_is_a_complaint():
    result = analyze_text(_review("Думала, что ручка будет прочнее.", 4))

    assert result.sentiment != "positive"
    assert result.needs_response


def test_nominal_negation_reaches_over_adjectives_to_the_noun():
    assert keys_of("без посторонних привкусов") == ["без", "!посторонний", "!привкус"]
    assert keys_of("не сладкий вкус") == ["не", "!сладкий", "вкус"]


def test_denied_complaint_noun_is_no_complaint():
    assert keys_of("аллергии нет")[0] == "!аллергия"
    result = analyze_text(_review("Крем хороший, аллергии нет.", 5))

    assert (result.sentiment, result.intent, result.needs_response) == (
        "positive",
        "praise",
        False,
    )


def test_denied_complaint_is_mild_praise():
    result = analyze_text(_review("Не линяет, не скатывается."))

    assert result.sentiment == "positive"


def test_overall_verdict_after_a_small_caveat_keeps_the_review_positive():
    result = analyze_text(_review("Коробка чуть помята, а так всё отлично, очень довольна.", 5))

    assert result.sentiment == "positive"
    assert result.needs_response


def test_issue_noun_denied_across_an_adverb():
    assert keys_of("запаха совсем нет")[0] == "!запах"
    assert keys_of("эффекта практически не было")[0] == "!эффект"


def test_issue_noun_denied_across_a_pronoun():
    assert keys_of("аллергии у меня не вызвал")[0] == "!аллергия"


def test_other_in_prepositional_case_is_not_a_friend():
    result = analyze_text(_review("Пришёл в другом цвете.", 2))

    assert result.intent == "wrong_item"


def test_intensifier_strengthens_the_verdict_after_it():
    from intelligence.rules.matcher import score

    plain = score(keys_of("вкусно"))["pos"]
    strong = score(keys_of("очень вкусно"))["pos"]

    assert strong > plain


def test_short_delivery_written_with_a_separate_negation_is_a_wrong_item():
    result = analyze_text(_review("Конфет не доложили, в коробке пусто наполовину.", 2))

    assert result.intent == "wrong_item"
