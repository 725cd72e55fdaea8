"""The service's per-process memory: small LRU maps, each a hint the database re-checks or a
result the database says is still current.

Four are kept: the API keys verified here (``app.auth``: a hint the statement that stores a
response re-checks), the form a link asks (``collection.service``: answers are checked without reading
the database, and the one ``INSERT ... SELECT`` re-checks the link), the rendered form page
(``collection.views``: the thank-you page and the outage page show it without the database), and
the computed report pages (``reports.views``: reused while the report's version, read from the
database on every request, is unchanged). Nothing here is ever the only proof of anything.
:func:`reset` empties every one of them (the tests call it between tests).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` entries, the least recently stored first out; safe across worker threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_all: list[LRU[object, object]] = []


def lru(size: int) -> LRU[K, V]:
    """A new LRU map, emptied by :func:`reset`."""
    cache: LRU[K, V] = LRU(size)
    _all.append(cache)  # type: ignore[arg-type]
    return cache


def reset() -> None:
    """Forget everything this process remembers (as a new worker would): for tests."""
    for cache in _all:
        cache.clear()
