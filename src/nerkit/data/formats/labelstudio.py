"""Label Studio exports as annotated documents: its JSON and JSON-MIN exports read task by task, tasks written back.

The JSON export is an array of tasks, `{"id": 17, "data": {"text": ...}, "annotations": [{"result":
[...], "was_cancelled": false}], "predictions": [{"model_version": ..., "score": ..., "result": [...]}]}`,
each result `{"id": "r1", "type": "labels", "from_name": "label", "to_name": "text", "value": {"start",
"end", "text", "labels"}}`. The JSON-MIN export is an array of flat records, one per annotation, the
task's data fields beside a list of regions `[{"start", "end", "text", "labels"}]` named after the
labelling control ("label"), with `id`, `annotator`, `annotation_id`, `created_at`...; consecutive records
of one task id are that task's annotations. The shape is told task by task.

Of a task's annotations (cancelled ones skipped and counted), `ReadOptions.annotation` takes the first or
the last (by `created_at` where every one has it, else in the file's order), or the task's first
prediction; the others are counted as not chosen. A task whose every annotation was cancelled, or that
has none (or no prediction, when predictions are asked for), is read as not annotated (counted as
cancelled or unannotated): its text reaches prediction, never training. The whole task is kept in
`extra`, to be written back with its annotations or its predictions replaced.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from nerkit.data.align import AlignedDocument
from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation
from nerkit.data.formats import ReadOptions, WriteOptions
from nerkit.data.formats.json_stream import iter_json_array
from nerkit.data.formats.jsonl import checked_label, offset, required, shown
from nerkit.errors import NerkitError
from nerkit.files import PathLike, write_text_atomic
from nerkit.jsonl import scored_json
from nerkit.lines import check_characters

NAMES_KEY = "nerkit:names"  # in `extra`: [from_name, to_name] of a task's labelled regions, to write back
DEFAULT_NAMES = ("label", "text")  # Label Studio's named-entity template: <Labels name="label" toName="text">
MIN_FIELDS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement")
TASK_HINT = 'Label Studio tasks look like {"id": 1, "data": {"text": "..."}, "annotations": [...]}'
REGION_HINT = 'a labelled region\'s value is {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]}'

Candidate = tuple[str, dict[str, object]]  # an annotation or prediction: how to name it, and itself


def read(path: PathLike, options: ReadOptions) -> Iterator[AnnotatedDocument]:
    """The documents of a Label Studio JSON or JSON-MIN export, one per task (placed at "file: task ID",
    their regions at "file: task ID region R"), read one task at a time."""
    group: list[tuple[int, int, dict[str, object]]] = []  # consecutive JSON-MIN records of one task
    for position, line, item in iter_json_array(path, "task"):
        if not isinstance(item, dict):
            raise NerkitError(f"task #{position}: {shown(item)} is not an object", path=path, hint=TASK_HINT)
        if any(key in item for key in ("data", "annotations", "predictions")):
            if group:
                yield _min_document(group, path, options)
                group = []
            yield _task_document(item, position, line, path, options)
        elif group and item.get("id") is not None and item.get("id") == group[0][2].get("id"):
            group.append((position, line, item))
        else:
            if group:
                yield _min_document(group, path, options)
            group = [(position, line, item)]
    if group:
        yield _min_document(group, path, options)


def task_name(task: dict[str, object], position: int) -> tuple[str, str]:
    """How errors and places name a task, "task 17" after its id or "task #5" after its place in the
    file when it has none; and its id as the document's name ("17", or "" when it has none)."""
    identifier = task.get("id")
    if isinstance(identifier, int | str) and not isinstance(identifier, bool):
        return f"task {identifier}", str(identifier)
    return f"task #{position}", ""


def _task_document(
    task: dict[str, object], position: int, line: int, path: PathLike, options: ReadOptions
) -> AnnotatedDocument:
    """The document of one task of the JSON export."""
    name, identifier = task_name(task, position)
    place = f"{path}: {name}"
    data = task.get("data", {})
    if not isinstance(data, dict):
        raise NerkitError(f'{name}: "data" is {shown(data)}, not an object', path=path, hint=TASK_HINT)
    text = _text(data, (), name, path, line)
    adjustments: list[Adjustment] = []
    annotations: list[Candidate] = []
    for index, annotation in enumerate(_objects(task, "annotations", name, path), start=1):
        label = f"annotation {_identifier(annotation, index)}"
        if annotation.get("was_cancelled") is True:
            adjustments.append(Adjustment("cancelled", place, label))
        else:
            annotations.append((label, annotation))
    predictions: list[Candidate] = [
        (f"prediction {_identifier(prediction, index, 'model_version')}", prediction)
        for index, prediction in enumerate(_objects(task, "predictions", name, path), start=1)
    ]
    extra = dict(task)
    names = _names([*_objects(task, "annotations", name, path), *(item for _, item in predictions)])
    if names is not None:
        extra[NAMES_KEY] = names
    cancelled = bool(adjustments)
    chosen = _choose(_by_creation(annotations), predictions, options.annotation, place, adjustments)
    if chosen is None and not cancelled:
        missing = "no prediction" if options.annotation == "predictions" else "no annotation"
        adjustments.append(Adjustment("unannotated", place, missing))
    regions = [] if chosen is None else _results(chosen[1], options.annotation, name, path, text, adjustments)
    return _document(text, regions, place, extra, identifier, adjustments, chosen is not None)


def _results(
    chosen: dict[str, object],
    mode: str,
    name: str,
    path: PathLike,
    text: str,
    adjustments: list[Adjustment],
) -> list[Annotation]:
    """The labelled regions of the annotation or prediction (`mode` "predictions") chosen, with a
    prediction's scores; other results counted as other_result."""
    default = _score(chosen.get("score"), name, path) if mode == "predictions" else None
    regions = []
    for index, result in enumerate(_objects(chosen, "result", name, path), start=1):
        where = f"{name} region {_identifier(result, index)}"
        kind = result.get("type")
        if kind != "labels":
            adjustments.append(Adjustment("other_result", f"{path}: {where}", f"a {shown(kind)} result"))
            continue
        value = result.get("value")
        if not isinstance(value, dict):
            raise NerkitError(
                f'{where}: "value" is {shown(value)}, not an object', path=path, hint=REGION_HINT
            )
        score = _score(result.get("score"), where, path) if mode == "predictions" else None
        region = _region(value, where, path, text, adjustments, default if score is None else score)
        if region is not None:
            regions.append(region)
    return regions


def _min_document(
    group: list[tuple[int, int, dict[str, object]]], path: PathLike, options: ReadOptions
) -> AnnotatedDocument:
    """The document of one task of a JSON-MIN export: its consecutive records, one per annotation."""
    position, line, first = group[0]
    name, identifier = task_name(first, position)
    place = f"{path}: {name}"
    annotations: list[Candidate] = [
        (f"annotation {_identifier(record, index, 'annotation_id')}", record)
        for index, (_, _, record) in enumerate(group, start=1)
        if _region_fields(record) or record.get("annotation_id") is not None
    ]
    adjustments: list[Adjustment] = []
    chosen = _choose(_by_creation(annotations), [], options.annotation, place, adjustments)
    record = first if chosen is None else chosen[1]
    fields = _region_fields(record)
    text = _text(record, (*fields, *MIN_FIELDS), name, path, line)
    regions: list[Annotation] = []
    read_field = next(iter(fields), "")
    for field, values in fields.items() if chosen is not None else ():
        for index, value in enumerate(values, start=1):
            where = f"{name} region {field}#{index}" if len(fields) > 1 else f"{name} region #{index}"
            if field != read_field:
                detail = f'a region of "{field}" (only "{read_field}" is read)'
                adjustments.append(Adjustment("other_result", f"{path}: {where}", detail))
                continue
            region = _region(value, where, path, text, adjustments, None)
            if region is not None:
                regions.append(region)
    data = {key: value for key, value in record.items() if key not in fields and key not in MIN_FIELDS}
    extra: dict[str, object] = {"id": first["id"]} if "id" in first else {}
    extra["data"] = data
    if read_field:
        extra[NAMES_KEY] = [read_field, DEFAULT_NAMES[1]]
    if chosen is None:
        adjustments.append(Adjustment("unannotated", place, "no annotation"))
    return _document(text, regions, place, extra, identifier, adjustments, chosen is not None)


def _document(
    text: str,
    regions: list[Annotation],
    place: str,
    extra: dict[str, object],
    identifier: str,
    adjustments: list[Adjustment],
    annotated: bool,
) -> AnnotatedDocument:
    """The document of one task, as both export shapes read it."""
    return AnnotatedDocument(
        text,
        regions,
        place,
        extra=extra,
        name=identifier,
        adjustments=adjustments,
        format="labelstudio",
        annotated=annotated,
    )


def _text(fields: dict[str, object], skip: Iterable[str], name: str, path: PathLike, line: int) -> str:
    """A task's text: its "text" field, else its one string field (but those in `skip`); NerkitError
    when it has none, several, or a "text" that is not a string."""
    text = fields.get("text")
    if "text" not in fields:
        skipped = set(skip)
        strings = [value for key, value in fields.items() if isinstance(value, str) and key not in skipped]
        if len(strings) == 1:
            text = strings[0]
    if not isinstance(text, str):
        raise NerkitError(
            f"{name}: no text to read ({'its text is ' + shown(text) if 'text' in fields else 'no text field'})",
            path=path,
            hint="give the text as data.text (a string), or give the task exactly one string field",
        )
    check_characters(text, path, line, what=f"{name}: the text", unit="character")
    return text


def _objects(parent: dict[str, object], key: str, name: str, path: PathLike) -> list[dict[str, object]]:
    """`parent[key]`, a list of objects (none when it is missing or null), or NerkitError."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise NerkitError(
            f'{name}: "{key}" is {shown(value)}, not a list of objects', path=path, hint=TASK_HINT
        )
    return value


def _identifier(item: dict[str, object], index: int, key: str = "id") -> str:
    """How to name an annotation, prediction or region: its `key` (id), else #index."""
    value = item.get(key)
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else f"#{index}"


def _by_creation(candidates: list[Candidate]) -> list[Candidate]:
    """`candidates` in the order they were made: by `created_at` when every one has it, else as given."""
    if all(isinstance(candidate.get("created_at"), str) for _, candidate in candidates):
        return sorted(candidates, key=lambda candidate: str(candidate[1]["created_at"]))
    return candidates


def _choose(
    annotations: list[Candidate],
    predictions: list[Candidate],
    mode: str,
    place: str,
    adjustments: list[Adjustment],
) -> Candidate | None:
    """The annotation (first or last) or prediction (the first) `mode` picks, the others counted as
    not chosen; None when there is none to pick."""
    if mode == "predictions":
        chosen = predictions[0] if predictions else None
    else:
        chosen = (annotations[0] if mode == "first" else annotations[-1]) if annotations else None
    for candidate in annotations + predictions:
        if candidate is not chosen:
            adjustments.append(Adjustment("not_chosen", place, f"{candidate[0]} (--annotation {mode})"))
    return chosen


def _names(items: list[dict[str, object]]) -> list[str] | None:
    """The from_name and to_name of the first labelled region of the annotations or predictions
    `items` (cancelled ones too: they name the project's controls as well) that names both."""
    for item in items:
        results = item.get("result")
        for result in results if isinstance(results, list) else ():
            if not isinstance(result, dict) or result.get("type") != "labels":
                continue
            names = result.get("from_name"), result.get("to_name")
            if isinstance(names[0], str) and isinstance(names[1], str):
                return [names[0], names[1]]
    return None


def _region_fields(record: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    """The fields of a JSON-MIN record that hold labelled regions (lists of objects with start, end
    and labels), with their regions."""
    fields = {}
    for key, value in record.items():
        items = value if isinstance(value, list) else []
        regions = [
            item for item in items if isinstance(item, dict) and {"start", "end", "labels"} <= item.keys()
        ]
        if regions and len(regions) == len(items):
            fields[key] = regions
    return fields


def _score(value: object, where: str, path: PathLike) -> float | None:
    """A prediction's or a region's score: None, or a number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NerkitError(
            f"{where}: score is {shown(value)}, not a number", path=path, hint="give a number from 0 to 1"
        )
    return float(value)


def _region(
    value: dict[str, object],
    where: str,
    path: PathLike,
    text: str,
    adjustments: list[Adjustment],
    score: float | None,
) -> Annotation | None:
    """A labelled region's value as an Annotation (its first label; more counted as extra_label); None,
    counted as other_result, for a region with no label. NerkitError for offsets that are not whole
    numbers, a label that is not one word, a text that is not a string."""
    start = offset(required(value, "start", where, path), "start", where, path)
    end = offset(required(value, "end", where, path), "end", where, path)
    labels = value.get("labels")
    if not isinstance(labels, list):
        raise NerkitError(f"{where}: labels is {shown(labels)}, not a list", path=path, hint=REGION_HINT)
    place = f"{path}: {where}"
    said = value.get("text")
    if said is not None and not isinstance(said, str):
        raise NerkitError(f"{where}: text is {shown(said)}, not a string", path=path, hint=REGION_HINT)
    if not labels:
        adjustments.append(Adjustment("other_result", place, f"[{start}, {end}) with no label"))
        return None
    region = Annotation(start, end, _label(labels[0], where, path), said, place=place, score=score)
    if len(labels) > 1:
        others = ", ".join(shown(label) for label in labels[1:])
        adjustments.append(
            Adjustment("extra_label", place, f"{region.describe(text)}, also labelled {others}")
        )
    return region


def _label(value: object, where: str, path: PathLike) -> str:
    """A region's label, checked as every format's is (one word); one with white space inside, common
    in Label Studio configs ("Medical Condition"), is refused with the renaming to make."""
    if isinstance(value, str) and value.strip() and any(character.isspace() for character in value):
        better = "_".join(value.split())
        raise NerkitError(
            f"{where}: label {shown(value)} holds white space, and nerkit's labels are one word",
            path=path,
            hint=f'rename it, e.g. to "{better}", in the Label Studio labeling config '
            f'(<Label value="{better}"/>) and in this export',
        )
    return checked_label(value, where, path)


def write(path: PathLike, documents: Iterable[AlignedDocument], options: WriteOptions) -> int:
    """Write a JSON array of tasks, one per document: the task it was read from (when read from Label
    Studio; else `{"id": N, "data": {"text": ...}}`) with its kept entities as its `annotations`, or,
    when `options.model_version` is set, as its `predictions`, with a score per region and their mean
    (the task's other field, annotations or predictions, passes through as it was). A document not
    annotated (a task nobody annotated, a Prodigy reject, a Hugging Face row without tags) gets no
    annotation: a task goes back as it came, anything else as a bare task. Regions name the from_name and to_name of the task's own labelled
    regions; a task with none takes those of the task before it that had some (of the first that has
    some, for the tasks before it: they wait in a temporary file), and "label" and "text" only when no
    task of the file has any. Returns how many tasks were written."""
    key = "annotations" if options.model_version is None else "predictions"
    count = 0

    def parts() -> Iterator[str]:
        nonlocal count
        names: tuple[str, str] | None = None  # the last from_name and to_name a task had of its own
        with tempfile.TemporaryFile("w+", encoding="utf-8") as waiting:  # tasks before any names
            yield "["
            for document in documents:
                count += 1
                task, regions = _task(document, count, options.model_version)
                names = _own_names(document.source) or names
                if names is None:
                    waiting.write(f"[{_json(task, document)}, {json.dumps(bool(regions))}]\n")
                    continue
                if waiting.tell():
                    yield from _named_waiting(waiting, key, names)
                _name_regions(regions, names)
                yield ("\n" if count == 1 else ",\n") + _json(task, document)
            if waiting.tell():
                yield from _named_waiting(waiting, key, names or DEFAULT_NAMES)
            yield "\n]\n"

    write_text_atomic(path, parts(), inputs=options.inputs)
    return count


def _named_waiting(waiting: IO[str], key: str, names: tuple[str, str]) -> Iterator[str]:
    """The tasks waiting in `waiting` (the file's first ones, each with whether `write` made regions
    under `key`), those regions named `names`; `waiting` emptied."""
    waiting.seek(0)
    for number, line in enumerate(waiting):
        task, made = json.loads(line)
        if made:
            _name_regions(task[key][0]["result"], names)
        yield ("\n" if number == 0 else ",\n") + json.dumps(task, ensure_ascii=False)
    waiting.seek(0)
    waiting.truncate()


def _json(task: dict[str, object], document: AlignedDocument) -> str:
    """`task` as one line of strict JSON; NerkitError naming the document for a NaN score."""
    return scored_json(task, document.source.place)


def _own_names(source: AnnotatedDocument) -> tuple[str, str] | None:
    """The from_name and to_name of a task's own labelled regions, when it was read from Label Studio
    and had some."""
    names = source.extra.get(NAMES_KEY) if source.format == "labelstudio" else None
    return (str(names[0]), str(names[1])) if isinstance(names, list) else None


def _name_regions(regions: list[dict[str, object]], names: tuple[str, str]) -> None:
    """Give the regions `write` made their from_name and to_name."""
    for region in regions:
        region["from_name"], region["to_name"] = names


def _task(
    document: AlignedDocument, number: int, model_version: str | None
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The task of one document, as `write` writes it, and the regions made for it (its one annotation's
    or prediction's; none for a task that goes back as it came), not yet named (`_name_regions`)."""
    source, text = document.source, document.text
    if source.format == "labelstudio":
        task = {key: value for key, value in source.extra.items() if key != NAMES_KEY}
    else:
        task = {"id": number, "data": {"text": text}}
    regions: list[dict[str, object]] = []
    for index, entity in enumerate(document.entities, start=1):
        region: dict[str, object] = {
            "id": f"n{index}",
            "from_name": "",
            "to_name": "",
            "type": "labels",
            "value": {
                "start": entity.start,
                "end": entity.end,
                "text": text[entity.start : entity.end],
                "labels": [entity.label],
            },
        }
        if model_version is not None and entity.score is not None:
            region["score"] = entity.score
        regions.append(region)
    if model_version is None:
        if source.annotated:
            task["annotations"] = [{"result": regions}]
            return task, regions
        return task, []  # nobody annotated it: it goes back as it came, or as a bare task
    prediction: dict[str, object] = {"model_version": model_version}
    scores = [entity.score for entity in document.entities if entity.score is not None]
    if scores:
        prediction["score"] = sum(scores) / len(scores)
    prediction["result"] = regions
    task["predictions"] = [prediction]
    return task, regions
