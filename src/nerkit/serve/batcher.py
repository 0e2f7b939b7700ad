"""Micro-batching: the texts of requests that arrive within a few milliseconds share one model call."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from nerkit.errors import NerkitError

Result = TypeVar("Result")


class Overloaded(Exception):
    """The batcher already holds as many waiting texts as it may take: the caller should retry later."""


@dataclass
class BatchStats:
    """What the batcher has done since it started: model calls, requests and texts tagged, and requests
    dropped from the queue because their caller stopped waiting before their call began."""

    calls: int = 0
    requests: int = 0
    texts: int = 0
    largest_call: int = 0
    dropped: int = 0


@dataclass(eq=False)  # compared by identity: two requests with the same texts are still two
class _Waiting(Generic[Result]):
    """One request's texts waiting for the model, and the future its caller awaits."""

    texts: list[str]
    future: asyncio.Future[list[Result]]
    arrived: float


class MicroBatcher(Generic[Result]):
    """Puts the texts of concurrent requests into shared model calls of at most `max_batch` texts.

    Calls run one at a time in one worker thread, so the event loop is never blocked by the model. A
    request waits at most `wait_ms` for company before its call starts (none while the model is busy:
    requests gather during a call), and at most `max_waiting` texts may wait at once. A request whose
    caller is cancelled (its client has gone) leaves the queue at once and never reaches the model.
    """

    def __init__(
        self,
        tag: Callable[[list[str]], Sequence[Result]],
        max_batch: int = 64,
        max_waiting: int = 1024,
        wait_ms: float = 2.0,
    ) -> None:
        if max_batch < 1:
            raise NerkitError(f"a batch of at most {max_batch} texts is impossible", hint="use 1 or more")
        if max_waiting < max_batch:
            raise NerkitError(
                f"a queue of {max_waiting} texts cannot hold one batch of {max_batch}",
                hint="make the queue at least as long as a batch",
            )
        if wait_ms < 0:
            raise NerkitError(f"a wait of {wait_ms} ms is impossible", hint="use 0 or more")
        self.tag = tag
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self.wait_ms = wait_ms
        self.stats = BatchStats()
        self._waiting: deque[_Waiting[Result]] = deque()
        self._waiting_texts = 0
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def waiting_texts(self) -> int:
        """Texts queued for a model call that has not started yet."""
        return self._waiting_texts

    async def start(self) -> None:
        """Start the worker on the running event loop, and its model thread."""
        if self._worker is not None:
            raise RuntimeError("the batcher is already running")
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nerkit-model")
        self._worker = asyncio.create_task(self._work(), name="nerkit-batcher")

    async def stop(self) -> None:
        """Stop the worker; requests still waiting or in a call are cancelled."""
        if self._worker is None:
            return
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        for request in self._waiting:
            request.future.cancel()
        self._waiting.clear()
        self._waiting_texts = 0
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._worker = None
        self._executor = None

    async def submit(self, texts: list[str]) -> list[Result]:
        """The model's results for `texts`, in order, from a call shared with other requests.

        Raises Overloaded when the queue is full, ValueError for more texts than one call takes. Cancelling
        the caller before its call starts drops its texts from the queue.
        """
        if self._worker is None or self._arrived is None:
            raise RuntimeError("the batcher is not running: await start() first (the app's lifespan does)")
        if len(texts) > self.max_batch:
            raise ValueError(f"{len(texts)} texts do not fit one call of at most {self.max_batch}")
        if not texts:
            return []
        if self._waiting_texts + len(texts) > self.max_waiting:
            raise Overloaded(f"{self._waiting_texts} texts are already waiting for the model")
        loop = asyncio.get_running_loop()
        request: _Waiting[Result] = _Waiting(list(texts), loop.create_future(), loop.time())
        self._waiting.append(request)
        self._waiting_texts += len(texts)
        self._arrived.set()
        try:
            return await request.future
        except asyncio.CancelledError:
            self._drop(request)
            raise

    def _drop(self, request: _Waiting[Result]) -> None:
        """Take a request out of the queue if its call has not started (else its call goes on without it)."""
        if request in self._waiting:
            self._waiting.remove(request)
            self._waiting_texts -= len(request.texts)
            self.stats.dropped += 1

    async def _work(self) -> None:
        """Forever: wait for a request, give it a moment to gather company, then run calls until none wait."""
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._arrived.wait()
            while self._waiting:
                delay = self._waiting[0].arrived + self.wait_ms / 1000 - loop.time()
                if delay > 0 and self._waiting_texts < self.max_batch:
                    await asyncio.sleep(delay)
                    continue  # the oldest request may have been dropped meanwhile
                await self._call(self._take())
            self._arrived.clear()

    def _take(self) -> list[_Waiting[Result]]:
        """The oldest waiting requests whose texts together fit one call (always at least one)."""
        batch = [self._waiting.popleft()]
        size = len(batch[0].texts)
        while self._waiting and size + len(self._waiting[0].texts) <= self.max_batch:
            size += len(self._waiting[0].texts)
            batch.append(self._waiting.popleft())
        self._waiting_texts -= size
        return batch

    async def _call(self, batch: list[_Waiting[Result]]) -> None:
        """One model call in the worker thread for the batch's live requests; each gets its share."""
        live = [request for request in batch if not request.future.done()]
        if not live:
            return
        texts = [text for request in live for text in request.texts]
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._executor, self.tag, texts)
            if len(results) != len(texts):
                raise RuntimeError(f"the model gave {len(results)} results for {len(texts)} texts")
        except asyncio.CancelledError:
            for request in live:
                request.future.cancel()
            raise
        except Exception as error:
            for request in live:
                if not request.future.done():
                    request.future.set_exception(error)
            return
        self.stats.calls += 1
        self.stats.requests += len(live)
        self.stats.texts += len(texts)
        self.stats.largest_call = max(self.stats.largest_call, len(texts))
        position = 0
        for request in live:
            share = list(results[position : position + len(request.texts)])
            position += len(request.texts)
            if not request.future.done():
                request.future.set_result(share)
