"""Tests for nerkit.model.ensemble: averaged marginals and their decoding against brute force, the folder
written and loaded, and the inputs it refuses."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from pathlib import Path

import pytest
import torch

import nerkit
from nerkit.cli import main
from nerkit.data.batches import encode_sentence, pad
from nerkit.data.conll import document_ids, read_conll
from nerkit.data.tags import allowed_transitions
from nerkit.errors import NerkitError
from nerkit.evaluate import tags_calibration
from nerkit.model.ensemble import EnsembleTagger, build_ensemble, load_ensemble
from nerkit.model.folder import file_sha256, load_trainable
from nerkit.model.inference import tag_encoded
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.pipeline import Pipeline
from nerkit.predict import model_version
from nerkit.runtime.export import export_model
from nerkit.training.options import TrainOptions
from nerkit.training.train import train

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
LABELS = ["O", "B-X", "E-X", "I-X", "S-X"]


def _tagger(seed: int) -> Tagger:
    spec = ModelSpec(
        labels=LABELS, scheme="BIOES", output_scheme="IOB2", words=4, pretrained_words=0, word_dim=4, chars=4
    )
    torch.manual_seed(seed)
    tagger = Tagger(spec).double()
    with torch.no_grad():
        for parameter in tagger.crf.parameters():
            parameter.normal_()
    return tagger.eval()


def _path_scores(tagger: Tagger, emissions: torch.Tensor, length: int) -> dict[tuple[int, ...], float]:
    """Every tag path's score under one member's CRF, by enumeration."""
    with torch.no_grad():
        transitions, start, end = tagger.crf.scores()
    scores = {}
    for path in itertools.product(range(len(LABELS)), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(emissions[t, k] for t, k in enumerate(path))
        scores[path] = float(score + sum(transitions[a, b] for a, b in itertools.pairwise(path)))
    return scores


def _brute_marginals(tagger: Tagger, emissions: torch.Tensor, length: int) -> torch.Tensor:
    scores = _path_scores(tagger, emissions, length)
    log_z = torch.logsumexp(torch.tensor(list(scores.values()), dtype=torch.double), 0)
    marginals = torch.zeros(length, len(LABELS), dtype=torch.double)
    for path, score in scores.items():
        for t, k in enumerate(path):
            marginals[t, k] += torch.exp(score - log_z)
    return marginals


def _allowed(path: tuple[int, ...]) -> bool:
    allowed, start, end = allowed_transitions(LABELS, "BIOES")
    return start[path[0]] and end[path[-1]] and all(allowed[a][b] for a, b in itertools.pairwise(path))


def test_marginals_are_the_members_brute_force_marginals_averaged_and_decoded_by_their_logs():
    members = [_tagger(seed) for seed in (1, 2, 3)]
    ensemble = EnsembleTagger(members)
    lengths = [4, 1, 3]
    torch.manual_seed(5)
    scores = 2 * torch.randn(3, len(lengths), max(lengths), len(LABELS), dtype=torch.double)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    averaged = ensemble.marginals(scores, mask)
    padded = pad([encode_sentence(["a"] * n, _vocab_stub()) for n in lengths])
    paths, confidences = ensemble.decode(scores, padded)
    for row, length in enumerate(lengths):
        expected = sum(_brute_marginals(m, scores[i, row], length) for i, m in enumerate(members)) / 3
        assert torch.allclose(averaged[row, :length], expected, atol=1e-9)
        assert averaged[row, length:].abs().sum() == 0
        candidates = [p for p in itertools.product(range(len(LABELS)), repeat=length) if _allowed(p)]
        best = max(candidates, key=lambda p: sum(float(expected[t, k].log()) for t, k in enumerate(p)))
        assert paths[row] == list(best)
        assert confidences[row] == pytest.approx(
            [float(expected[t, k]) for t, k in enumerate(best)], abs=1e-9
        )


def _vocab_stub():
    from nerkit.data.vocab import Vocab

    return Vocab(words=["<pad>", "<unk>", "a", "b"], chars=["<pad>", "<unk>", "a", "b"], labels=LABELS)


def test_decoding_never_takes_a_move_the_scheme_forbids():
    """Averaged marginals can favour I-X after O token by token; the path must still be valid BIOES."""
    ensemble = EnsembleTagger([_tagger(1), _tagger(2)])
    scores = torch.full((2, 1, 3, len(LABELS)), -20.0, dtype=torch.double)
    scores[:, 0, 0, 0] = 20  # O
    scores[:, 0, 1, 3] = 20  # I-X: not allowed after O
    scores[:, 0, 2, 0] = 20
    padded = pad([encode_sentence(["a", "b", "a"], _vocab_stub())])
    paths, _ = ensemble.decode(scores, padded)
    assert _allowed(tuple(paths[0]))


def test_one_member_twice_has_the_members_marginals():
    member = _tagger(4).float()
    vocab = _vocab_stub()
    padded = pad([encode_sentence(tokens, vocab) for tokens in (["a", "b", "a"], ["b"], ["a", "a"])])
    ensemble = EnsembleTagger([member, member])
    scores = ensemble.network(padded)
    mask = torch.from_numpy(padded.mask)
    with torch.no_grad():
        own = member.crf.marginals(scores[0].double(), mask).float()  # as the ensemble: in float64
    assert torch.equal(ensemble.marginals(scores, mask), own)
    paths, confidences = ensemble.decode(scores, padded)
    for row, path in enumerate(paths):
        assert confidences[row] == [float(own[row, t, k]) for t, k in enumerate(path)]


def _train(output: Path, seed: int, labels_from: Path = SAMPLES / "train.conll", **changes) -> Path:
    options = TrainOptions(
        max_epochs=1,
        min_epochs=1,
        learning_rate=0.05,
        hidden=8,
        char_filters=4,
        word_dim=8,
        seed=seed,
        threads=1,
        context_tokens=0,
        average_epochs=1,
        **changes,
    )
    train(labels_from, output, dev_path=SAMPLES / "dev.conll", options=options)
    return output


@pytest.fixture(scope="module")
def members(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("members")
    return [_train(root / f"seed{seed}", seed) for seed in (1, 2)]


def test_the_folder_loads_as_its_members_averaged_and_records_its_dev_score(
    members, tmp_path, capsys, monkeypatch
):
    output = tmp_path / "ensemble"
    calls = []
    tag_tokens = Pipeline.tag_tokens
    monkeypatch.setattr(Pipeline, "tag_tokens", lambda *a, **k: calls.append(1) or tag_tokens(*a, **k))
    code = main(["ensemble", *map(str, members), "-o", str(output), "--dev", str(SAMPLES / "dev.conll")])
    monkeypatch.undo()
    _, err = capsys.readouterr()
    assert code == 0
    assert len(calls) == 1  # dev tagged once for its score and its calibration
    meta = json.loads((output / "model.json").read_text())
    assert meta["format"] == "nerkit-ensemble"
    assert [m["folder"] for m in meta["members"]] == ["member-1", "member-2"]
    assert [m["source"] for m in meta["members"]] == [str(m.resolve()) for m in members]
    digests = [file_sha256(m / "model.safetensors") for m in members]
    assert [m["sha256"] for m in meta["members"]] == digests
    joined = hashlib.sha256(" ".join(digests).encode()).hexdigest()
    assert model_version(meta, "ensemble") == f"ensemble@{joined[:12]}"
    assert err == f"wrote {output} (2 models, dev F1 {100 * meta['dev']['f1']:.2f})\n"
    loaded = nerkit.load(output, threads=1)
    assert isinstance(loaded.model, EnsembleTagger)
    direct = EnsembleTagger([nerkit.load(m, threads=1).model for m in members])  # type: ignore[list-item]
    tokens = [["Peter", "visited", "Paris", "."], ["Acme", "Corp", "hired", "Anna", "Smith"]]
    encoded = [encode_sentence(t, loaded.vocab) for t in tokens]
    assert tag_encoded(loaded.model, encoded) == tag_encoded(direct, encoded)
    assert loaded.evaluate(SAMPLES / "dev.conll").f1 == pytest.approx(meta["dev"]["f1"])
    sentences = list(read_conll(SAMPLES / "dev.conll"))
    tagged = loaded.tag_tokens([s.tokens for s in sentences], documents=document_ids(sentences))
    assert meta["calibration"] == tags_calibration(
        [t.tags for t in tagged], [t.confidences for t in tagged], [s.tags for s in sentences]
    )
    assert meta["calibration"]["entities"] > 0
    assert main(["spec", str(output)]) == 0
    assert "ensemble of 2 models" in capsys.readouterr().out


def test_an_ensemble_is_refused_where_one_model_is_needed(members, tmp_path):
    output = tmp_path / "ensemble"
    build_ensemble(members, output)
    with pytest.raises(NerkitError, match="is an ensemble; --init takes one model"):
        load_trainable(output, "float32", "--init")
    with pytest.raises(NerkitError, match="is an ensemble already"):
        build_ensemble([output, members[0]], tmp_path / "again")
    with pytest.raises(NerkitError, match="is an ensemble; nerkit export takes one model"):
        export_model(output, tmp_path / "exported")


def test_bad_member_lists_are_one_line_errors(members, tmp_path, capsys):
    one = main(["ensemble", str(members[0]), "-o", str(tmp_path / "e")])
    assert one == 2
    assert "an ensemble takes 2 to 16 models, not 1" in capsys.readouterr().err
    with pytest.raises(NerkitError, match="has the same weights as"):
        build_ensemble([members[0], members[0]], tmp_path / "e")
    copy = tmp_path / "copy"
    shutil.copytree(members[0], copy)
    with pytest.raises(NerkitError, match="has the same weights as"):
        build_ensemble([members[0], copy], tmp_path / "e")
    _rewrite(copy, lambda meta: meta.pop("weights"))  # no checksum recorded: the file's is taken
    with pytest.raises(NerkitError, match="has the same weights as"):
        build_ensemble([members[0], copy], tmp_path / "e")


def test_members_must_encode_and_tag_alike(members, tmp_path):
    other = tmp_path / "other.conll"
    other.write_text("Peter B-PER\nruns O\n\nAcme B-ORG\nCorp I-ORG\n\nParis B-LOC\n\nEuro B-MISC\n")
    different = _train(tmp_path / "different", 1, labels_from=other)
    with pytest.raises(NerkitError, match=r"its labels .* differ from the first model.s"):
        build_ensemble([members[0], different], tmp_path / "e")


def test_the_output_never_replaces_an_input_or_a_folder_of_other_files(members, tmp_path):
    with pytest.raises(NerkitError, match="is the model"):
        build_ensemble(members, members[1])
    first = build_ensemble(members, tmp_path / "first")
    inner = first.folder / "member-2"
    with pytest.raises(NerkitError, match="holds the model"):
        build_ensemble([inner, members[0]], first.folder)
    assert (inner / "model.safetensors").read_bytes() == (members[1] / "model.safetensors").read_bytes()
    with pytest.raises(NerkitError, match=r"no such file|does not exist|cannot"):
        build_ensemble(members, tmp_path / "scored", dev=tmp_path / "missing.conll")
    assert not (tmp_path / "scored").exists()
    with pytest.raises(NerkitError, match="inside this command's input folder"):
        build_ensemble(members, members[0] / "inner")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(NerkitError, match="holds files that are not a nerkit ensemble"):
        build_ensemble(members, busy)
    assert (busy / "notes.txt").read_text() == "mine"
    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / "model.json").write_text('{"format": "nerkit-onnx", "format_version": 1}')
    with pytest.raises(NerkitError, match="is an exported"):
        build_ensemble([members[0], exported], tmp_path / "e")


@pytest.fixture
def ensemble(members, tmp_path) -> Path:
    output = tmp_path / "ensemble"
    build_ensemble(members, output)
    return output


def _rewrite(folder: Path, change) -> None:
    meta = json.loads((folder / "model.json").read_text())
    change(meta)
    (folder / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda meta: meta.update(members="all"), 'its members are "all", not a list of 2 to 16'),
        (lambda meta: meta["members"].pop(), "not a list of 2 to 16"),
        (
            lambda meta: meta["members"][1].update(folder="../member-1"),
            'names a member folder "../member-1", not member-1 to member-16',
        ),
        (
            lambda meta: meta["members"][1].update(folder="member-1"),
            'names the member folder "member-1" twice',
        ),
        (lambda meta: meta["members"][1].update(folder="member-3"), "no such model folder"),
        (
            lambda meta: meta["members"][1].update(sha256="0" * 64),
            "holds other weights than the ensemble was built with",
        ),
    ],
)
def test_a_damaged_ensemble_is_one_line_of_error(ensemble, change, expected, capsys):
    _rewrite(ensemble, change)
    assert main(["evaluate", str(ensemble), str(SAMPLES / "dev.conll")]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1


def test_a_member_that_links_out_or_was_changed_is_refused(ensemble, members, capsys):
    shutil.rmtree(ensemble / "member-2")
    (ensemble / "member-2").symlink_to(members[1].resolve())
    with pytest.raises(NerkitError, match="is a link outside the ensemble folder"):
        load_ensemble(ensemble)
    (ensemble / "member-2").unlink()
    shutil.copytree(members[1], ensemble / "member-2")
    with (ensemble / "member-2" / "model.safetensors").open("r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(NerkitError, match="does not match the checksum"):
        load_ensemble(ensemble)


# --- members that read transformer features ------------------------------------------------------------


@pytest.fixture(scope="module")
def stacked(tmp_path_factory, tiny_bert) -> list[Path]:
    root = tmp_path_factory.mktemp("stacked")
    cache = str(root / "cache")
    return [
        _train(
            root / f"seed{seed}", seed, transformer=str(tiny_bert), transformer_layers=2, feature_cache=cache
        )
        for seed in (1, 2)
    ]


def test_members_with_transformer_features_share_one_copy_of_it(stacked, tmp_path, tiny_bert):
    output = tmp_path / "ensemble"
    built = build_ensemble(stacked, output, dev=SAMPLES / "dev.conll")
    meta = json.loads((output / "model.json").read_text())
    assert sorted(p.name for p in output.iterdir()) == ["member-1", "member-2", "model.json", "transformer"]
    assert sorted(p.name for p in (output / "member-1").iterdir()) == ["model.json", "model.safetensors"]
    weights = file_sha256(tiny_bert / "model.safetensors")
    assert meta["transformer"] == {"sha256": weights}
    loaded = nerkit.load(output, threads=1, precision="float32")
    assert loaded.transformer is not None and loaded.transformer.path == output / "transformer"
    assert loaded.transformer.precision == "float32"
    singles = [nerkit.load(m, threads=1, precision="float32") for m in stacked]
    sentences = list(read_conll(SAMPLES / "dev.conll"))
    tokens, documents = [s.tokens for s in sentences], document_ids(sentences)
    direct = EnsembleTagger([single.model for single in singles])  # type: ignore[misc]
    averaged = Pipeline(direct, singles[0].vocab, singles[0].meta, singles[0].transformer)
    assert loaded.tag_tokens(tokens, documents=documents) == averaged.tag_tokens(tokens, documents=documents)
    assert built.dev_f1 == pytest.approx(loaded.evaluate(SAMPLES / "dev.conll").f1)


def test_members_must_read_the_same_transformer_features(stacked, members, tmp_path):
    with pytest.raises(NerkitError, match="its transformer_dim 16 differ from the first model's 0"):
        build_ensemble([members[0], stacked[0]], tmp_path / "e")
    other = tmp_path / "other"
    shutil.copytree(stacked[1], other)
    _rewrite(other, lambda meta: meta.update(transformer={"sha256": "0" * 64}))
    with pytest.raises(NerkitError, match="reads another transformer than the first model"):
        build_ensemble([stacked[0], other], tmp_path / "e")
    _rewrite(other, lambda meta: meta["spec"].update(transformer_pooling="first"))
    with pytest.raises(NerkitError, match='its transformer_pooling "first" differ'):
        build_ensemble([stacked[0], other], tmp_path / "e")


def test_a_damaged_shared_transformer_is_one_line_of_error(stacked, tmp_path, capsys):
    first = tmp_path / "first"
    shutil.copytree(stacked[0], first)
    weights = first / "transformer" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(NerkitError, match="does not match the checksum"):
        build_ensemble([first, stacked[1]], tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    output = tmp_path / "ensemble"
    build_ensemble(stacked, output)
    weights = output / "transformer" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    assert main(["evaluate", str(output), str(SAMPLES / "dev.conll")]) == 2
    err = capsys.readouterr().err
    assert "does not match the checksum" in err
    assert err.count("\n") == 1
