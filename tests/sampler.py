"""Measuring while something else happens: a thread of its own samples the stack until the
`with` block ends (the peak of processes in a burst, in the end-to-end tests and the
benchmarks)."""

from __future__ import annotations

import threading
from typing import Self


class Sampler:
    """Calls `sample` every `every` seconds, from entering the `with` block until leaving it."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
