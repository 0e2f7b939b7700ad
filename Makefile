# nerkit: `make demo` sets everything up and runs the workflow on the sample corpus; `make test` runs the checks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo-output

.PHONY: install demo test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nerkit needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[train,dev,transformers,spark,serve,report,export]'
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	command -v java >/dev/null || (apt-get update -qq && apt-get install -y -qq default-jre-headless)
	touch $(STAMP)

demo: install
	@mkdir -p $(DEMO)
	@echo "== 1. What is in the training data (nerkit stats) =="
	$(BIN)/nerkit stats samples/train.conll
	@echo
	@echo "== 2. Score predictions the conlleval way (nerkit score) =="
	$(BIN)/nerkit score samples/dev_predictions.conll
	$(BIN)/nerkit score samples/dev_predictions.conll --json > $(DEMO)/dev_scores.json
	@echo "   JSON scores written to $(DEMO)/dev_scores.json"
	@echo
	@echo "== 3. Convert the tag scheme (nerkit convert) =="
	$(BIN)/nerkit convert samples/train.conll --scheme BIOES --output $(DEMO)/train.bioes.conll
	$(BIN)/nerkit stats $(DEMO)/train.bioes.conll --check-scheme
	@echo
	@echo "== 4. Raw text to sentences and tokens with character offsets (nerkit tokenize) =="
	$(BIN)/nerkit tokenize samples/raw.txt --output $(DEMO)/raw.tokens.jsonl
	@head -c 300 $(DEMO)/raw.tokens.jsonl; echo " ..."
	@echo
	@echo "== 5. Size a model from the data before training (nerkit spec --train) =="
	$(BIN)/nerkit spec --train samples/train.conll --dev samples/dev.conll
	@echo
	@echo "== 6. Train a BiLSTM-CNN-CRF tagger, keeping the best epoch by dev F1 (nerkit train) =="
	$(BIN)/nerkit train --train samples/train.conll --dev samples/dev.conll --test samples/test.conll \
		--output $(DEMO)/model --log-folder $(DEMO)/logs
	@echo "   model folder: $(DEMO)/model (model.safetensors, model.json, train_log.jsonl); log: $(DEMO)/logs/"
	@echo
	@echo "== 7. Evaluate it on the held-out test split, conlleval's way (nerkit evaluate) =="
	$(BIN)/nerkit evaluate $(DEMO)/model samples/test.conll
	@echo
	@echo "== 8. Find entities in raw text (nerkit predict): JSON lines, then an HTML page =="
	$(BIN)/nerkit predict $(DEMO)/model samples/raw.txt --output $(DEMO)/raw.entities.jsonl
	@head -n 2 $(DEMO)/raw.entities.jsonl
	$(BIN)/nerkit predict $(DEMO)/model samples/raw.txt --format html --output $(DEMO)/raw.entities.html
	@echo "   open $(DEMO)/raw.entities.html in a browser to see the entities highlighted"
	@echo
	@echo "== 9. Annotation-tool formats: spans as tools export them, scored and pre-annotated =="
	$(BIN)/nerkit stats samples/annotated.jsonl --alignment
	$(BIN)/nerkit evaluate $(DEMO)/model samples/annotated.jsonl
	$(BIN)/nerkit convert samples/dev.conll -o $(DEMO)/dev.labelstudio.json
	$(BIN)/nerkit predict $(DEMO)/model samples/raw.txt --format labelstudio --output $(DEMO)/raw.labelstudio.json
	@echo "   import $(DEMO)/raw.labelstudio.json into Label Studio: the model's entities arrive as pre-annotations"
	@echo
	@echo "== 10. Where the model goes wrong: the error-analysis report (nerkit report) =="
	$(BIN)/nerkit report $(DEMO)/model samples/test.conll -o $(DEMO)/report.html --json $(DEMO)/report.json \
		--suspects $(DEMO)/suspects.jsonl
	@echo "   open $(DEMO)/report.html: scores, error kinds, confusion, confidence thresholds, worst sentences, suspects"
	@echo
	@echo "== 11. Deploy small: export to ONNX and tag without torch (nerkit export) =="
	$(BIN)/nerkit export $(DEMO)/model -o $(DEMO)/model-onnx --quantize int8
	$(BIN)/nerkit predict $(DEMO)/model-onnx samples/raw.txt --output $(DEMO)/raw.entities.onnx.jsonl
	@head -n 2 $(DEMO)/raw.entities.onnx.jsonl
	@echo "   $(DEMO)/model-onnx runs on onnxruntime alone: pip install 'nerkit[runtime]' is enough to serve it"
	@echo
	@echo "== 12. Teach a new model with the first one, on the training data and raw text (nerkit train --teacher) =="
	$(BIN)/nerkit train --train samples/train.conll --dev samples/dev.conll --output $(DEMO)/student \
		--teacher $(DEMO)/model --unlabeled samples/raw.txt
	$(BIN)/nerkit spec $(DEMO)/student
	@echo "   with a transformer model as the teacher, the student tags at the static model's speed (see the README)"
	@echo
	@echo "== 13. Train the model again with another seed and tag with both as one (nerkit ensemble) =="
	$(BIN)/nerkit train --train samples/train.conll --dev samples/dev.conll --output $(DEMO)/model-seed7 --seed 7
	$(BIN)/nerkit ensemble $(DEMO)/model $(DEMO)/model-seed7 -o $(DEMO)/ensemble --dev samples/dev.conll
	$(BIN)/nerkit evaluate $(DEMO)/ensemble samples/test.conll
	@echo "   $(DEMO)/ensemble averages its members' CRF marginals; every command that takes a model takes it"
	@echo
	@echo "Done. Outputs are in $(DEMO)/: dev_scores.json, train.bioes.conll, raw.tokens.jsonl, model/, logs/,"
	@echo "raw.entities.jsonl, raw.entities.html, dev.labelstudio.json, raw.labelstudio.json, report.html,"
	@echo "report.json, suspects.jsonl, model-onnx/, raw.entities.onnx.jsonl, student/, model-seed7/ and ensemble/."

test: install
	$(BIN)/ruff check src tests bench samples
	$(BIN)/ruff format --check src tests bench samples
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check --fix src tests bench samples
	$(BIN)/ruff format src tests bench samples

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache src/*.egg-info
