"""Benchmark: `nerkit serve` gives exactly the entities of `nerkit predict` for every sentence of a CoNLL file.

    python bench/serve_parity.py MODEL ../shared/data/conll2003/valid.txt

Each sentence is typeset as plain text (tokens joined by spaces). `nerkit predict MODEL texts.txt` tags
them as one file; `nerkit serve MODEL --port 0` on 127.0.0.1 gets them from 16 concurrent clients in
requests of 1 to 16 texts, so that requests share model calls as under load. Every result must equal
predict's line for the same text: text, and each entity's start, end, label, text and confidence. Writes
JSON to bench/results/serve_parity.json (the first mismatches included); exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serve_load import HOST, REQUEST_TIMEOUT, http_request, read_response, start_server, stop_server

from nerkit.data.conll import read_conll

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
MOST_TEXTS = 16


def predicted(model: str, texts: list[str], threads: int) -> list[dict[str, object]]:
    """`nerkit predict` on the texts as one text file: one JSON object per text."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "texts.txt"
        source.write_text("".join(text + "\n" for text in texts), encoding="utf-8")
        command = [sys.executable, "-m", "nerkit", "predict", model, str(source), "--threads", str(threads)]
        output = subprocess.run(command, check=True, capture_output=True, text=True, encoding="utf-8")
    return [json.loads(line) for line in output.stdout.splitlines()]


async def served(port: int, texts: list[str]) -> list[dict[str, object]]:
    """The service's results for the texts, sent in requests of random size by concurrent clients."""
    generator = random.Random(0)
    requests: list[range] = []
    while (start := requests[-1].stop if requests else 0) < len(texts):
        requests.append(range(start, min(len(texts), start + generator.randint(1, MOST_TEXTS))))
    results: list[dict[str, object]] = [{} for _ in texts]
    pending = iter(requests)

    async def client() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        for numbers in pending:
            body = json.dumps({"texts": [texts[n] for n in numbers]}, ensure_ascii=False).encode("utf-8")
            writer.write(http_request("POST", "/v1/entities", body))
            status, answer = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
            if status != 200:
                raise SystemExit(f"HTTP {status}: {answer.decode('utf-8', 'replace')}")
            for number, result in zip(numbers, json.loads(answer)["results"], strict=True):
                results[number] = result
        writer.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="a model folder")
    parser.add_argument("conll", help="a CoNLL file, e.g. ../shared/data/conll2003/valid.txt")
    parser.add_argument("--limit", type=int, help="only the first N sentences")
    parser.add_argument("--threads", type=int, default=0, help="torch threads of both (default: all cores)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "serve_parity.json"))
    args = parser.parse_args()
    texts = [" ".join(sentence.tokens) for sentence in read_conll(args.conll)][: args.limit]
    started = time.perf_counter()
    expected = predicted(args.model, texts, args.threads)
    server = start_server(args.model, "--max-batch", str(MOST_TEXTS), "--threads", str(args.threads))
    try:
        results = asyncio.run(served(server.port, texts))
    finally:
        stop_server(server)
    mismatches = [
        {"line": number + 1, "predict": want, "serve": got}
        for number, (want, got) in enumerate(zip(expected, results, strict=True))
        if want != got
    ]
    entities = sum(len(row["entities"]) for row in expected)  # type: ignore[arg-type]
    report = {
        "model": args.model,
        "source": f"{args.conll}: each sentence typeset as plain text (tokens joined by spaces)",
        "texts": len(texts),
        "entities": entities,
        "identical": len(texts) - len(mismatches),
        "mismatches": len(mismatches),
        "first_mismatches": mismatches[:10],
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"{report['identical']:,} of {len(texts):,} texts identical ({entities:,} entities); wrote {args.output}"
    )
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
