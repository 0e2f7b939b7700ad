"""Partial-match scoring: SemEval's scenarios, nervaluate's rules where they surprise, and the same counts as
nervaluate 1.2.1 on 250 seeded random files."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from nerkit.errors import NerkitError
from nerkit.report.partial import SCHEMAS, Counts, partial_scores, score_partial
from nerkit.report.sentences import Mention, ReportSentence

NERVALUATE_SCHEMAS = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
LABELS = ("PER", "LOC", "ORG", "MISC")
Documents = Sequence[Sequence[Mention]]


def nervaluate_json(gold: Documents, predicted: Documents) -> dict[str, object]:
    """nervaluate's tables for the same entities, spans made inclusive, in the shape of our to_json."""
    evaluator = pytest.importorskip("nervaluate").Evaluator
    labels = sorted({mention.label for document in [*gold, *predicted] for mention in document})
    results = evaluator(inclusive(gold), inclusive(predicted), tags=labels, loader="dict").evaluate()
    return {
        ours: {
            "overall": table(results["overall"][theirs]),
            "per_type": {
                label: table(results["entities"][label][theirs]) for label in sorted(results["entities"])
            },
        }
        for ours, theirs in NERVALUATE_SCHEMAS.items()
    }


def inclusive(documents: Documents) -> list[list[dict[str, object]]]:
    """nervaluate's span dicts: end inclusive."""
    return [
        [{"label": m.label, "start": m.start, "end": m.end - 1} for m in document] for document in documents
    ]


def table(result: object) -> dict[str, object]:
    """One of nervaluate's EvaluationResult as our COUNTS."""
    names = ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual")
    return {name: getattr(result, name) for name in (*names, "precision", "recall", "f1")}


def counts(scores: dict[str, object], schema: str, label: str | None = None) -> tuple[object, ...]:
    """(correct, incorrect, partial, missed, spurious) of one table of a to_json."""
    tables = scores[schema]
    assert isinstance(tables, dict)
    found = tables["overall"] if label is None else tables["per_type"][label]
    return tuple(found[name] for name in ("correct", "incorrect", "partial", "missed", "spurious"))


def scored(gold: Documents, predicted: Documents) -> dict[str, object]:
    """Our to_json, checked equal to nervaluate's."""
    ours = score_partial(gold, predicted).to_json()
    assert ours == nervaluate_json(gold, predicted)
    return ours


# SemEval-2013 task 9.1's scenarios as nervaluate's README tables them, over tokens:
# (gold, predicted, outcome under strict, exact, partial, type).
SCENARIOS = {
    "III missed (tikosyn)": ([Mention(1, 2, "BRAND")], [], ("missed",) * 4),
    "II spurious (healthy)": ([], [Mention(1, 2, "BRAND")], ("spurious",) * 4),
    "V boundary (of warfarin)": (
        [Mention(1, 2, "DRUG")],
        [Mention(0, 2, "DRUG")],
        ("incorrect", "incorrect", "partial", "correct"),
    ),
    "IV type (propranolol)": (
        [Mention(0, 1, "DRUG")],
        [Mention(0, 1, "BRAND")],
        ("incorrect", "correct", "correct", "incorrect"),
    ),
    "I match (phenytoin)": ([Mention(0, 1, "DRUG")], [Mention(0, 1, "DRUG")], ("correct",) * 4),
    "VI both (oral contraceptives)": (
        [Mention(1, 2, "GROUP")],
        [Mention(0, 2, "DRUG")],
        ("incorrect", "incorrect", "partial", "incorrect"),
    ),
}
COUNT_NAMES = ("correct", "incorrect", "partial", "missed", "spurious")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_semeval_scenario_counts_as_the_table_says(name: str) -> None:
    gold, predicted, outcomes = SCENARIOS[name]
    scores = scored([gold], [predicted])
    for schema, outcome in zip(SCHEMAS, outcomes, strict=True):
        assert counts(scores, schema) == tuple(int(kind == outcome) for kind in COUNT_NAMES), schema


def test_the_six_scenarios_together() -> None:
    gold = [scenario[0] for scenario in SCENARIOS.values()]
    predicted = [scenario[1] for scenario in SCENARIOS.values()]
    scores = score_partial(gold, predicted)
    assert scores.to_json() == nervaluate_json(gold, predicted)
    overall = {schema: scores.schemas[schema].overall for schema in SCHEMAS}
    assert overall == {
        "strict": Counts(correct=1, incorrect=3, missed=1, spurious=1),
        "exact": Counts(correct=2, incorrect=2, missed=1, spurious=1),
        "partial": Counts(correct=2, partial=2, missed=1, spurious=1),
        "type": Counts(correct=2, incorrect=2, missed=1, spurious=1),
    }
    assert [(c.possible, c.actual, c.precision, c.recall) for c in overall.values()] == [
        (5, 5, 0.2, 0.2),
        (5, 5, 0.4, 0.4),
        (5, 5, 0.6, 0.6),
        (5, 5, 0.4, 0.4),
    ]
    assert [c.f1 for c in overall.values()] == [
        0.20000000000000004,
        0.4000000000000001,
        0.6,
        0.4000000000000001,
    ]  # nervaluate's floats


def test_the_readme_totals_need_the_blogs_seventh_row() -> None:
    """nervaluate's README totals ("Putting all together") do not fit its six-row table: they count the
    blog's second exact match (theophylline) too. With it, ours and nervaluate's give those totals."""
    gold = [scenario[0] for scenario in SCENARIOS.values()] + [[Mention(0, 1, "DRUG")]]
    predicted = [scenario[1] for scenario in SCENARIOS.values()] + [[Mention(0, 1, "DRUG")]]
    scores = scored(gold, predicted)
    assert [counts(scores, schema) for schema in ("type", "partial", "exact", "strict")] == [
        (3, 2, 0, 1, 1),
        (3, 0, 2, 1, 1),
        (3, 2, 0, 1, 1),
        (2, 3, 0, 1, 1),
    ]
    assert [scores[schema]["overall"]["precision"] for schema in ("type", "partial", "exact", "strict")] == [
        0.5,
        4 / 6,
        0.5,
        2 / 6,
    ]


def test_per_type_tables_do_not_add_up_to_the_overall_one() -> None:
    """A right span of the wrong type is correct overall under exact and partial, incorrect under strict
    and type; per type it is a spurious BRAND and a missed DRUG under every schema (nervaluate's rule)."""
    scores = scored([[Mention(0, 1, "DRUG")]], [[Mention(0, 1, "BRAND")]])
    assert [counts(scores, schema) for schema in SCHEMAS] == [
        (0, 1, 0, 0, 0),
        (1, 0, 0, 0, 0),
        (1, 0, 0, 0, 0),
        (0, 1, 0, 0, 0),
    ]
    for schema in SCHEMAS:
        assert counts(scores, schema, "DRUG") == (0, 0, 0, 1, 0)
        assert counts(scores, schema, "BRAND") == (0, 0, 0, 0, 1)


def test_per_type_exact_is_strict_and_type_counts_overlap_as_correct() -> None:
    scores = scored([[Mention(0, 2, "PER")]], [[Mention(1, 3, "PER")]])
    assert [counts(scores, schema, "PER") for schema in SCHEMAS] == [
        (0, 1, 0, 0, 0),
        (0, 1, 0, 0, 0),
        (0, 0, 1, 0, 0),
        (1, 0, 0, 0, 0),
    ]


def test_a_split_gold_entity_is_one_partial_and_one_spurious() -> None:
    scores = scored([[Mention(0, 4, "ORG")]], [[Mention(0, 2, "ORG"), Mention(2, 4, "ORG")]])
    assert counts(scores, "partial") == (0, 0, 1, 0, 1)
    assert counts(scores, "strict") == (0, 1, 0, 0, 1)
    assert counts(scores, "type") == (1, 0, 0, 0, 1)


def test_merged_gold_entities_are_one_partial_and_one_missed() -> None:
    scores = scored([[Mention(0, 2, "ORG"), Mention(2, 4, "ORG")]], [[Mention(0, 4, "ORG")]])
    assert counts(scores, "partial") == (0, 0, 1, 1, 0)
    assert counts(scores, "type") == (1, 0, 0, 1, 0)


def test_strict_takes_the_first_overlap_type_the_right_type() -> None:
    """The same prediction is paired with LOC [0, 3) by strict (first in order) and PER [5, 10) by type."""
    scores = scored([[Mention(0, 3, "LOC"), Mention(5, 10, "PER")]], [[Mention(0, 10, "PER")]])
    assert counts(scores, "strict") == (0, 1, 0, 1, 0)
    assert counts(scores, "type") == (1, 0, 0, 1, 0)


@pytest.mark.parametrize(
    ("predicted", "expected"),
    [
        ([Mention(1, 5, "PER"), Mention(0, 1, "PER")], (2, 0, 0, 0, 0)),  # closer to the second
        ([Mention(1, 4, "PER"), Mention(4, 5, "PER")], (2, 0, 0, 0, 0)),  # a tie: the first
        ([Mention(1, 4, "PER"), Mention(0, 1, "PER")], (1, 0, 0, 1, 1)),  # the tie leaves (0, 1) spurious
    ],
)
def test_type_takes_the_closest_gold_entity_and_the_first_on_a_tie(
    predicted: list[Mention], expected: tuple[int, ...]
) -> None:
    gold = [Mention(0, 2, "PER"), Mention(3, 5, "PER")]
    assert counts(scored([gold], [predicted]), "type") == expected


def test_predictions_are_judged_in_the_order_given() -> None:
    """Overlapping predictions (never in a ReportSentence) score differently in another order, as in nervaluate."""
    gold = [[Mention(0, 2, "PER"), Mention(2, 4, "PER")]]
    straddling, exact = Mention(1, 3, "PER"), Mention(0, 2, "PER")
    assert counts(scored(gold, [[straddling, exact]]), "partial") == (0, 0, 1, 1, 1)
    assert counts(scored(gold, [[exact, straddling]]), "partial") == (1, 0, 1, 0, 0)


def test_overlap_is_at_least_one_percent_of_the_gold_entity() -> None:
    gold = [[Mention(0, 200, "ORG")]]
    assert counts(scored(gold, [[Mention(199, 205, "ORG")]]), "partial") == (0, 0, 0, 1, 1)
    assert counts(scored(gold, [[Mention(198, 205, "ORG")]]), "partial") == (0, 0, 1, 0, 0)
    assert counts(scored([[Mention(0, 100, "ORG")]], [[Mention(99, 105, "ORG")]]), "partial") == (
        0,
        0,
        1,
        0,
        0,
    )


def test_duplicates_are_not_merged() -> None:
    twice = [Mention(0, 2, "LOC"), Mention(0, 2, "LOC")]
    assert counts(scored([twice], [twice[:1]]), "strict") == (1, 0, 0, 1, 0)
    assert counts(scored([twice[:1]], [twice]), "strict") == (1, 0, 0, 0, 1)


def test_no_documents_gives_zero_tables_where_nervaluate_gives_none() -> None:
    zero = {"overall": Counts().to_json(), "per_type": {}}
    assert score_partial([], []).to_json() == {schema: zero for schema in SCHEMAS}
    assert partial_scores([]).to_json() == {schema: zero for schema in SCHEMAS}
    nervaluate = pytest.importorskip("nervaluate")
    assert nervaluate.Evaluator([], [], tags=[], loader="dict").evaluate()["overall"] == {}
    with pytest.raises(ValueError, match="infer loader"):
        nervaluate.Evaluator([], [], tags=[])
    with pytest.raises(IndexError):
        nervaluate.Evaluator([[]], [[]], tags=[])


def test_documents_without_entities_score_zero() -> None:
    assert Counts().to_json() == {
        "correct": 0,
        "incorrect": 0,
        "partial": 0,
        "missed": 0,
        "spurious": 0,
        "possible": 0,
        "actual": 0,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
    }
    assert scored([[], []], [[], []])["strict"] == {"overall": Counts().to_json(), "per_type": {}}
    only_gold = scored([[Mention(0, 1, "PER")]], [[]])
    assert only_gold["type"]["overall"]["recall"] == 0.0


def test_bad_input_raises_nerkit_error() -> None:
    with pytest.raises(NerkitError, match="1 documents of gold entities but 2 of predicted"):
        score_partial([[]], [[], []])
    with pytest.raises(NerkitError, match=r"the PER entity \[3, 3\) is empty"):
        score_partial([[Mention(3, 3, "PER")]], [[]])
    with pytest.raises(NerkitError, match=r"the LOC entity \[4, 2\) is empty"):
        partial_scores([ReportSentence("abcdef", [], [Mention(4, 2, "LOC", 0.5)])])


def test_nervaluate_divides_by_zero_on_an_empty_entity() -> None:
    evaluator = pytest.importorskip("nervaluate").Evaluator
    gold = [[{"label": "PER", "start": 3, "end": 2}]]
    predicted = [[{"label": "PER", "start": 1, "end": 4}]]
    with pytest.raises(ZeroDivisionError):
        evaluator(gold, predicted, tags=["PER"], loader="dict").evaluate()


def test_json_shape() -> None:
    scores = score_partial([[Mention(0, 2, "PER"), Mention(5, 6, "LOC")]], [[Mention(0, 2, "PER")]]).to_json()
    assert list(scores) == list(SCHEMAS)
    assert scores["strict"] == {
        "overall": {
            "correct": 1,
            "incorrect": 0,
            "partial": 0,
            "missed": 1,
            "spurious": 0,
            "possible": 2,
            "actual": 1,
            "precision": 1.0,
            "recall": 0.5,
            "f1": 2 * (1.0 * 0.5) / 1.5,
        },
        "per_type": {
            "LOC": {**Counts(missed=1).to_json()},
            "PER": {**Counts(correct=1).to_json()},
        },
    }
    assert list(scores["strict"]["per_type"]) == ["LOC", "PER"]


# Token units: "aaaaaaaaaa b c d e"; gold PER over tokens 0-1 and 3-4; predictions over tokens 1-3 and 4.
TEXT = "aaaaaaaaaa b c d e"
TOKENS = [(0, 10), (11, 12), (13, 14), (15, 16), (17, 18)]
GOLD_CHARS = [Mention(0, 12, "PER"), Mention(15, 18, "PER")]
PREDICTED_CHARS = [Mention(11, 16, "PER", 0.9), Mention(17, 18, "PER", 0.8)]
GOLD_TOKENS = [Mention(0, 2, "PER"), Mention(3, 5, "PER")]
PREDICTED_TOKENS = [Mention(1, 4, "PER", 0.9), Mention(4, 5, "PER", 0.8)]


def test_sentences_are_scored_in_tokens_as_nervaluate_scores_token_spans() -> None:
    """In tokens the first prediction ties between the gold entities and takes the first; in characters it
    is closer to the second, which leaves the last prediction spurious."""
    sentence = ReportSentence(TEXT, GOLD_CHARS, PREDICTED_CHARS, TOKENS, [0.9] * 5, "s1")
    in_tokens = partial_scores([sentence]).to_json()
    assert in_tokens == nervaluate_json([GOLD_TOKENS], [PREDICTED_TOKENS])
    assert counts(in_tokens, "type") == (2, 0, 0, 0, 0)
    in_characters = scored([GOLD_CHARS], [PREDICTED_CHARS])
    assert counts(in_characters, "type") == (1, 0, 0, 1, 1)


def test_sentences_off_the_token_boundaries_are_scored_in_characters() -> None:
    gold = [Mention(0, 12, "PER"), Mention(15, 17, "PER")]  # ends inside "e"
    sentence = ReportSentence(TEXT + "e", gold, PREDICTED_CHARS, [*TOKENS[:4], (17, 19)], [0.9] * 5)
    assert partial_scores([sentence]).to_json() == nervaluate_json([gold], [PREDICTED_CHARS])
    assert partial_scores([ReportSentence(TEXT, GOLD_CHARS, PREDICTED_CHARS)]).to_json() == scored(
        [GOLD_CHARS], [PREDICTED_CHARS]
    )


def random_gold(rng: random.Random, length: int) -> list[Mention]:
    """Non-overlapping gold entities, sorted, some touching, a few longer than 100 units."""
    gold: list[Mention] = []
    position = 0
    while True:
        start = position + rng.choice([0, 1, 1, 2, 3, 5, 8])
        size = rng.randint(101, 250) if rng.random() < 0.05 else rng.choice([1, 1, 2, 2, 3, 4, 6])
        if start + size > length:
            return gold
        gold.append(Mention(start, start + size, rng.choice(LABELS)))
        position = start + size


def corrupt(rng: random.Random, gold: list[Mention], length: int) -> list[Mention]:
    """Predictions from gold entities: kept, retyped, shifted, cut to an edge, dropped, split, merged, plus
    spurious ones."""
    predicted: list[Mention] = []
    for index, mention in enumerate(gold):
        start, end, label = mention.start, mention.end, mention.label
        kinds = ["keep", "type", "shift", "edge", "drop", "split", "merge"]
        kind = rng.choices(kinds, [35, 12, 20, 5, 10, 9, 9])[0]
        if kind == "type":
            label = rng.choice(LABELS)
        elif kind == "shift":
            start, end = start + rng.randint(-3, 3), end + rng.randint(-3, 3)
        elif kind == "edge":  # the last unit or two, and beyond: under 1% of a long entity
            start, end = end - rng.randint(1, 2), end + rng.randint(0, 3)
        elif kind == "drop":
            continue
        elif kind == "split" and end - start >= 2:
            cut = rng.randint(start + 1, end - 1)
            predicted.append(Mention(start, cut, label))
            start = cut
        elif kind == "merge" and index + 1 < len(gold):
            end, label = gold[index + 1].end, rng.choice([label, gold[index + 1].label])
        start = min(max(0, start), length - 1)
        predicted.append(Mention(start, min(length, max(end, start + 1)), label))
    for _ in range(rng.choice([0, 0, 1, 2])):
        start = rng.randrange(length)
        predicted.append(Mention(start, min(length, start + rng.randint(1, 4)), rng.choice(LABELS)))
    return predicted


def as_in_a_sentence(predicted: list[Mention]) -> list[Mention]:
    """Sorted by start, overlaps dropped: what a ReportSentence holds."""
    kept: list[Mention] = []
    for mention in sorted(predicted, key=lambda m: (m.start, m.end)):
        if not kept or kept[-1].end <= mention.start:
            kept.append(mention)
    return kept


def random_file(rng: random.Random) -> tuple[list[list[Mention]], list[list[Mention]]]:
    """1-6 documents; in half the files the predictions are raw (shuffled, overlapping, duplicated)."""
    raw = rng.random() < 0.5
    gold_documents, predicted_documents = [], []
    for _ in range(rng.randint(1, 6)):
        length = rng.choice([1, 8, 30, 30, 60, 300])
        gold = random_gold(rng, length)
        predicted = corrupt(rng, gold, length)
        if raw:
            predicted += rng.sample(predicted, min(len(predicted), rng.choice([0, 0, 1])))
            rng.shuffle(predicted)
        else:
            predicted = as_in_a_sentence(predicted)
        gold_documents.append(gold)
        predicted_documents.append(predicted)
    return gold_documents, predicted_documents


def test_same_counts_as_nervaluate_on_random_files() -> None:
    rng = random.Random(2013)
    totals = {schema: Counts() for schema in SCHEMAS}
    types_not_adding_up = 0
    for number in range(250):
        gold, predicted = random_file(rng)
        scores = score_partial(gold, predicted)
        assert scores.to_json() == nervaluate_json(gold, predicted), f"file {number}"
        for schema, tables in scores.schemas.items():
            totals[schema].add(tables.overall)
        strict = scores.schemas["strict"]
        types_not_adding_up += sum(c.spurious for c in strict.per_type.values()) != strict.overall.spurious
    assert all(
        getattr(totals[schema], name) > 50
        for schema in SCHEMAS
        for name in ("correct", "missed", "spurious", "partial" if schema == "partial" else "incorrect")
    )
    assert types_not_adding_up > 50
