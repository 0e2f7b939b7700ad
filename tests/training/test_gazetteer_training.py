"""Training with --gazetteer: the phrases saved in model.json and read back, predictions the same after
loading and after export, and the combinations refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nerkit
from nerkit.cli import main
from nerkit.data.batches import encode_sentence
from nerkit.data.conll import read_conll
from nerkit.data.gazetteer import build_gazetteer, masks
from nerkit.errors import NerkitError
from nerkit.model.folder import load_model
from nerkit.runtime.export import export_model
from nerkit.training.options import TrainOptions
from nerkit.training.prepare import prepare
from nerkit.training.train import train

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="module")
def gazetteer_model(tmp_path_factory, tiny_options) -> Path:
    output = tmp_path_factory.mktemp("gazetteer") / "model"
    train(SAMPLES / "train.conll", output, SAMPLES / "dev.conll", options=tiny_options(gazetteer=True))
    return output


def test_the_phrases_are_saved_read_back_and_used(gazetteer_model):
    meta = json.loads((gazetteer_model / "model.json").read_text())
    assert meta["spec"]["gazetteer_dim"] == 16
    assert meta["training"]["gazetteer"] is True
    gazetteer = meta["vocab"]["gazetteer"]
    assert gazetteer["types"] == ["LOC", "MISC", "ORG", "PER"]
    train_text = (SAMPLES / "train.conll").read_text()
    first = gazetteer["phrases"]["PER"][0]
    assert all(token in train_text.lower() for token in first)
    loaded = nerkit.load(gazetteer_model, threads=1)
    assert loaded.vocab.gazetteer is not None and loaded.vocab.gazetteer.width == 16
    tagged = loaded.tag_tokens([["Peter", "visited", "Paris", "."]])
    assert tagged == nerkit.load(gazetteer_model, threads=1).tag_tokens([["Peter", "visited", "Paris", "."]])
    assert loaded.evaluate(SAMPLES / "dev.conll").f1 == pytest.approx(meta["dev"]["f1"])


def test_a_gazetteer_in_a_model_without_its_spec_is_damage(gazetteer_model, tmp_path, capsys):
    meta = json.loads((gazetteer_model / "model.json").read_text())
    meta["vocab"]["gazetteer"]["phrases"]["LOC"] = [["Upper"]]
    folder = tmp_path / "damaged"
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps(meta))
    (folder / "model.safetensors").write_bytes((gazetteer_model / "model.safetensors").read_bytes())
    assert main(["spec", str(folder)]) == 2
    assert (
        "vocab.gazetteer.phrases.LOC[0] is not a list of 1 to 6 lower-case tokens" in capsys.readouterr().err
    )


def test_the_export_reads_the_gazetteer_as_the_model_does(gazetteer_model, tmp_path):
    exported = export_model(gazetteer_model, tmp_path / "exported").folder
    torch_model = nerkit.load(gazetteer_model, threads=1)
    onnx_model = nerkit.load(exported, threads=1)
    assert onnx_model.vocab.gazetteer == torch_model.vocab.gazetteer
    sentences = [s.tokens for s in read_conll(SAMPLES / "dev.conll")]
    ours, theirs = torch_model.tag_tokens(sentences), onnx_model.tag_tokens(sentences)
    assert [t.tags for t in ours] == [t.tags for t in theirs]
    for mine, other in zip(ours, theirs, strict=True):
        assert mine.confidences == pytest.approx(other.confidences, abs=1e-4)
    found = [encode_sentence(tokens, onnx_model.vocab).gazetteer for tokens in sentences]
    assert sum(int(values.any()) for values in found if values is not None) > 10  # the features did matter


def test_init_continues_a_gazetteer_model_and_grows_its_phrases(gazetteer_model, tmp_path, tiny_options):
    new = tmp_path / "new.conll"
    new.write_text(
        "-DOCSTART- O\n\nThe O\nZorblax B-PRODUCT\n9 I-PRODUCT\nsold O\n\nPeter B-PER\nQuill I-PER\n\n"
    )
    output = tmp_path / "continued"
    options = TrainOptions(init=str(gazetteer_model), max_epochs=1, threads=1, batch_size=8)
    train(new, output, SAMPLES / "dev.conll", options=options)
    old = nerkit.load(gazetteer_model, threads=1).vocab.gazetteer
    grown = nerkit.load(output, threads=1)
    assert old is not None and grown.vocab.gazetteer is not None
    assert grown.vocab.gazetteer.types == ["LOC", "MISC", "ORG", "PER", "PRODUCT"]  # the new type last
    assert grown.spec.gazetteer_dim == 20
    assert set(old.phrases) < set(grown.vocab.gazetteer.phrases)
    assert grown.vocab.gazetteer.phrases[("zorblax", "9")] == frozenset({4})
    assert json.loads((output / "model.json").read_text())["training"]["gazetteer"] is True


def test_init_with_a_partial_file_of_a_new_type_reads_the_old_model_on_its_own_columns(
    gazetteer_model, tmp_path
):
    """The prior beliefs of a partially annotated unit come from the old model, which reads only the
    gazetteer columns it has (the new type's come after)."""
    new = tmp_path / "products.conll"
    new.write_text(
        "-DOCSTART- O\n\nThe O\nZorblax B-PRODUCT\nsold O\n\n-DOCSTART- O\n\nZorblax B-PRODUCT\n\n"
    )
    options = TrainOptions(init=str(gazetteer_model), max_epochs=1, threads=1, annotated_types="PRODUCT")
    train(new, tmp_path / "continued", SAMPLES / "dev.conll", options=options)
    assert nerkit.load(tmp_path / "continued", threads=1).spec.gazetteer_dim == 20


@pytest.mark.parametrize(
    ("model", "gazetteer", "expected"),
    [
        ("gazetteer_model", False, "has gazetteer features, so --no-gazetteer cannot take them out"),
        ("tiny_model", True, "has no gazetteer features, so --gazetteer cannot be added"),
    ],
)
def test_a_continued_model_keeps_its_gazetteer_or_its_lack(model, gazetteer, expected, tmp_path, request):
    start = request.getfixturevalue(model)
    with pytest.raises(NerkitError, match=expected):
        train(
            SAMPLES / "train.conll",
            tmp_path / "next",
            SAMPLES / "dev.conll",
            options=TrainOptions(init=str(start), gazetteer=gazetteer),
        )


def test_one_document_of_training_data_gets_no_gazetteer(tmp_path, tiny_options, capsys):
    text = (SAMPLES / "train.conll").read_text().replace("-DOCSTART- O\n\n", "")
    single = tmp_path / "single.conll"
    single.write_text("-DOCSTART- O\n\n" + text)
    data = prepare(single, SAMPLES / "dev.conll", options=tiny_options(gazetteer=True))
    assert data.vocab.gazetteer is None and data.spec.gazetteer_dim == 0 and data.masked is None
    assert "the training data is one document, so the model has no gazetteer" in capsys.readouterr().err
    train(
        single, tmp_path / "model", SAMPLES / "dev.conll", options=tiny_options(gazetteer=True, max_epochs=1)
    )
    assert json.loads((tmp_path / "model" / "model.json").read_text())["training"]["gazetteer"] is False


def test_rehearsed_sentences_do_not_see_the_phrases_only_their_document_annotates(gazetteer_model, tmp_path):
    data = prepare(
        SAMPLES / "dev.conll",
        options=TrainOptions(init=str(gazetteer_model), rehearse=str(SAMPLES / "train.conll")).resolved(True),
        start=load_model(gazetteer_model),
    )
    assert data.vocab.gazetteer is not None and data.rehearse is not None
    types = data.vocab.gazetteer.types
    _, own = build_gazetteer(data.rehearse.tokens, data.rehearse.tags, data.rehearse.documents, types)
    assert data.rehearse_masked == masks(own, data.rehearse.documents)
    assert any(data.rehearse_masked)


def test_a_dev_split_carved_out_of_train_is_masked_as_train_is(tiny_options):
    data = prepare(SAMPLES / "train.conll", options=tiny_options(gazetteer=True))
    assert data.masked is not None and data.dev_masked is not None
    _, own = build_gazetteer(
        data.train.tokens, data.train.tags, data.train.documents, ["LOC", "MISC", "ORG", "PER"]
    )
    assert data.dev_masked == masks(own, data.dev.documents)
    assert data.masked == masks(own, data.train.documents)
    assert any(data.dev_masked)  # some dev sentence shares a document, and a phrase only it annotates
    given = prepare(SAMPLES / "train.conll", SAMPLES / "dev.conll", options=tiny_options(gazetteer=True))
    assert given.dev_masked is None  # another file: its documents are not train's


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"fine_tune": True, "transformer": "x"}, "not to a fine-tuned transformer yet"),
    ],
)
def test_gazetteer_options_refused(changes, expected):
    with pytest.raises(NerkitError, match=expected):
        TrainOptions(gazetteer=True, **changes)
