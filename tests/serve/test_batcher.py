"""Tests for nerkit.serve.batcher: shared calls, order, bounds, errors, cancellation, a free event loop."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Awaitable, Callable

import pytest

pytest.importorskip("fastapi", reason="the serve tests need FastAPI: pip install 'nerkit[serve]'")

from nerkit.errors import NerkitError
from nerkit.serve.batcher import MicroBatcher, Overloaded


class Recorder:
    """A stand-in model: upper-cases texts, remembers each call's texts and thread, can wait or fail."""

    def __init__(self, seconds: float = 0.0, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[int] = set()
        self.seconds = seconds
        self.fail_on = fail_on
        self.release = threading.Event()
        self.release.set()

    def __call__(self, texts: list[str]) -> list[str]:
        self.release.wait(5)
        self.calls.append(list(texts))
        self.threads.add(threading.get_ident())
        time.sleep(self.seconds)
        if self.fail_on in texts:
            raise RuntimeError(f"cannot tag {self.fail_on}")
        return [text.upper() for text in texts]


def run(scenario: Callable[[MicroBatcher[str]], Awaitable[object]], batcher: MicroBatcher[str]) -> object:
    """Run `scenario(batcher)` on a fresh event loop with the batcher started, then stop it."""

    async def main() -> object:
        await batcher.start()
        try:
            return await scenario(batcher)
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_concurrent_requests_share_calls_and_get_their_own_results_in_order():
    model = Recorder(seconds=0.01)
    batcher = MicroBatcher(model, max_batch=16, wait_ms=5)
    requests = [[f"r{i}a", f"r{i}b"] if i % 3 == 0 else [f"r{i}"] for i in range(50)]

    async def scenario(b: MicroBatcher[str]) -> list[list[str]]:
        return await asyncio.gather(*(b.submit(texts) for texts in requests))

    results = run(scenario, batcher)
    assert results == [[text.upper() for text in texts] for texts in requests]
    assert sum(len(call) for call in model.calls) == sum(len(texts) for texts in requests) == 67
    assert max(len(call) for call in model.calls) <= 16
    assert len(model.calls) < 10  # 67 texts in calls of at most 16: 5 full, a few partial
    assert batcher.stats.calls == len(model.calls)
    assert batcher.stats.requests == 50
    assert batcher.stats.texts == 67
    assert batcher.stats.largest_call == max(len(call) for call in model.calls)


def test_a_request_is_never_split_across_calls():
    model = Recorder(seconds=0.01)
    batcher = MicroBatcher(model, max_batch=5, wait_ms=5)
    requests = [["a", "b", "c"], ["d", "e", "f"], ["g"], ["h", "i", "j", "k", "l"]]

    async def scenario(b: MicroBatcher[str]) -> list[list[str]]:
        return await asyncio.gather(*(b.submit(texts) for texts in requests))

    assert run(scenario, batcher) == [["A", "B", "C"], ["D", "E", "F"], ["G"], ["H", "I", "J", "K", "L"]]
    assert model.calls == [["a", "b", "c"], ["d", "e", "f", "g"], ["h", "i", "j", "k", "l"]]


def test_requests_within_the_wait_share_a_call_and_later_ones_do_not():
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=64, wait_ms=50)

    async def scenario(b: MicroBatcher[str]) -> list[object]:
        first = asyncio.create_task(b.submit(["one"]))
        await asyncio.sleep(0.005)
        second = asyncio.create_task(b.submit(["two"]))
        together = await asyncio.gather(first, second)
        alone = await b.submit(["three"])
        return [*together, alone]

    assert run(scenario, batcher) == [["ONE"], ["TWO"], ["THREE"]]
    assert model.calls == [["one", "two"], ["three"]]


def test_a_full_batch_does_not_wait():
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=2, wait_ms=10_000)

    async def scenario(b: MicroBatcher[str]) -> list[str]:
        return await asyncio.wait_for(b.submit(["x", "y"]), timeout=2)

    assert run(scenario, batcher) == ["X", "Y"]


def test_the_model_runs_in_one_worker_thread_while_the_event_loop_keeps_running():
    model = Recorder(seconds=0.3)
    batcher = MicroBatcher(model, wait_ms=0)
    ticks = []

    async def scenario(b: MicroBatcher[str]) -> list[str]:
        async def tick() -> None:
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        results = [await b.submit(["a"]), await b.submit(["b"])]
        ticker.cancel()
        return results

    assert run(scenario, batcher) == [["A"], ["B"]]
    assert len(model.threads) == 1
    assert threading.get_ident() not in model.threads
    assert len(ticks) > 30  # 0.6 s of model calls; ticking every 10 ms
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.1


def test_a_full_queue_refuses_with_overloaded_and_recovers():
    model = Recorder()
    model.release.clear()
    batcher = MicroBatcher(model, max_batch=2, max_waiting=4, wait_ms=0)

    async def scenario(b: MicroBatcher[str]) -> list[object]:
        in_call = asyncio.create_task(b.submit(["a", "b"]))
        await asyncio.sleep(0.01)
        assert b.waiting_texts == 0  # taken into a call, which waits for the model
        waiting = [asyncio.create_task(b.submit([text])) for text in "cdef"]
        await asyncio.sleep(0.01)
        assert b.waiting_texts == 4
        with pytest.raises(Overloaded, match="4 texts are already waiting"):
            await b.submit(["g"])
        model.release.set()
        results = [await in_call, *await asyncio.gather(*waiting)]
        results.append(await b.submit(["h"]))
        return results

    assert run(scenario, batcher) == [["A", "B"], ["C"], ["D"], ["E"], ["F"], ["H"]]


def test_a_failing_call_fails_its_requests_only_and_the_batcher_goes_on():
    model = Recorder(seconds=0.02, fail_on="bad")
    batcher = MicroBatcher(model, max_batch=2, wait_ms=5)

    async def scenario(b: MicroBatcher[str]) -> list[object]:
        outcomes = await asyncio.gather(
            b.submit(["bad"]), b.submit(["ok"]), b.submit(["fine"]), return_exceptions=True
        )
        return [*outcomes, await b.submit(["after"])]

    outcomes = run(scenario, batcher)
    assert [str(outcome) for outcome in outcomes[:2]] == ["cannot tag bad", "cannot tag bad"]
    assert outcomes[2:] == [["FINE"], ["AFTER"]]


def test_a_cancelled_request_is_skipped_and_the_others_are_answered():
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=8, wait_ms=30)

    async def scenario(b: MicroBatcher[str]) -> list[str]:
        gone = asyncio.create_task(b.submit(["gone"]))
        kept = asyncio.create_task(b.submit(["kept"]))
        await asyncio.sleep(0)
        gone.cancel()
        return await kept

    assert run(scenario, batcher) == ["KEPT"]
    assert model.calls == [["kept"]]


def test_a_request_cancelled_while_queued_leaves_the_queue_at_once_and_never_reaches_the_model():
    model = Recorder()
    model.release.clear()  # the first call holds the model while the others queue
    batcher = MicroBatcher(model, max_batch=2, max_waiting=4, wait_ms=0)

    async def scenario(b: MicroBatcher[str]) -> tuple[list[int], list[str], list[str]]:
        first = asyncio.create_task(b.submit(["first"]))
        await asyncio.sleep(0.02)  # the first call has started and waits for release
        gone = asyncio.create_task(b.submit(["gone", "gone too"]))
        kept = asyncio.create_task(b.submit(["kept"]))
        await asyncio.sleep(0.01)
        waiting = [b.waiting_texts]
        gone.cancel()
        await asyncio.sleep(0)
        waiting.append(b.waiting_texts)
        model.release.set()
        return waiting, await first, await kept

    assert run(scenario, batcher) == ([3, 1], ["FIRST"], ["KEPT"])
    assert model.calls == [["first"], ["kept"]]
    assert (batcher.stats.calls, batcher.stats.requests, batcher.stats.dropped) == (2, 2, 1)


def test_the_only_request_cancelled_while_it_waits_for_company_does_not_stop_the_worker():
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=8, wait_ms=50)

    async def scenario(b: MicroBatcher[str]) -> list[str]:
        gone = asyncio.create_task(b.submit(["gone"]))
        await asyncio.sleep(0.01)  # the worker is sleeping, waiting for company
        gone.cancel()
        await asyncio.sleep(0.1)
        return await asyncio.wait_for(b.submit(["after"]), 2)

    assert run(scenario, batcher) == ["AFTER"]
    assert model.calls == [["after"]]
    assert batcher.stats.dropped == 1


def test_empty_too_many_and_not_started():
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=3)

    async def scenario(b: MicroBatcher[str]) -> list[str]:
        with pytest.raises(ValueError, match="4 texts do not fit one call of at most 3"):
            await b.submit(["a", "b", "c", "d"])
        return await b.submit([])

    assert run(scenario, batcher) == []
    assert model.calls == []
    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(MicroBatcher(model).submit(["a"]))


def test_stop_cancels_waiting_requests():
    model = Recorder()
    model.release.clear()
    batcher = MicroBatcher(model, max_batch=1, wait_ms=0)

    async def scenario() -> list[bool]:
        await batcher.start()
        first = asyncio.create_task(batcher.submit(["a"]))
        second = asyncio.create_task(batcher.submit(["b"]))
        await asyncio.sleep(0.02)
        await batcher.stop()
        model.release.set()
        await asyncio.gather(first, second, return_exceptions=True)
        return [first.cancelled(), second.cancelled()]

    assert asyncio.run(scenario()) == [True, True]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_batch": 0}, "a batch of at most 0 texts is impossible"),
        ({"max_batch": 8, "max_waiting": 4}, "a queue of 4 texts cannot hold one batch of 8"),
        ({"wait_ms": -1}, "a wait of -1 ms is impossible"),
    ],
)
def test_impossible_settings_are_one_line_errors(options, message):
    with pytest.raises(NerkitError, match=message):
        MicroBatcher(Recorder(), **options)
