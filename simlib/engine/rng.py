"""Named random streams from one root seed.

Reproducibility and fair comparisons both rest on how random numbers are
handed out. Replication ``r`` of an experiment with root seed ``s`` uses
``numpy.random.SeedSequence(s, spawn_key=(r,))``. From it, each *stream*
(``arrivals``, ``service``, ``patience``, ``routing``, …) gets its own
sequence, and within a stream each *owner* (a customer class, a station) gets
its own generator keyed by the owner: a name, or a tuple of names for a
composite owner (a class at a station with per-class service times). So:

* replication ``r`` sees the same numbers whichever executor runs it
  (sequential = parallel = Dask);
* two scenario variants that differ in staffing draw the same arrivals and the
  same service requirements (common random numbers), which is what makes
  paired comparisons sharp;
* adding a new stream later never shifts the existing ones: the stream list is
  append-only.

Owner keys cannot collide. A plain name, or a tuple of names none of which
contains ``/``, keeps the key it always had (the CRC-32 of the names joined
with ``/``), so existing scenarios draw the same numbers; since no part holds
a ``/``, the joined text names one tuple only. A name containing ``/`` (a
station ``desk/vip`` next to class ``vip`` at station ``desk``), or a second
owner whose CRC-32 equals an earlier one's in the same stream (a station
named ``recovery`` beside the internal owner ``("recovery",)``), gets an exact
key instead: every byte of every name, length-prefixed, in a spawn key longer
than any CRC key.

Values are consumed in blocks (:class:`BlockSampler`), which is several times
cheaper than scalar draws and does not change which numbers a stream yields.
"""

from __future__ import annotations

import zlib

import numpy as np

from simlib.spec.distributions import Distribution

__all__ = ["STREAMS", "Owner", "replication_seed", "StreamFactory", "BlockSampler"]

#: Append-only: a stream's position is part of its identity.
STREAMS: tuple[str, ...] = (
    "arrivals", "service", "patience", "routing", "quality", "retention", "failures",
    "day_to_day", "word_of_mouth", "residents", "carers",
)

#: How many values a block sampler draws at once.
BLOCK = 2048


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed sequence of one replication.

    See docs/architecture.md#randomness-and-reproducibility.
    """
    return np.random.SeedSequence(seed, spawn_key=(replication,))


Owner = str | tuple[str, ...]


def _owner_key(parts: tuple[str, ...]) -> int:
    # A stable (process-independent) integer for a name; Python's hash() is salted.
    return zlib.crc32("/".join(parts).encode("utf-8"))


def _exact_key(parts: tuple[str, ...]) -> tuple[int, ...]:
    # 2**32 takes two 32-bit words, so this key is never a CRC key (one word).
    words: list[int] = [2**32, len(parts)]
    for part in parts:
        data = part.encode("utf-8")
        words += [len(data), *data]
    return tuple(words)


class StreamFactory:
    """Hands out independent generators by (stream, owner) for one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        root = replication_seed(seed, replication)
        self._entropy = root.entropy
        self._spawn_key = tuple(root.spawn_key)
        #: (stream index, CRC key) -> the owner that has it, to detect collisions.
        self._taken: dict[tuple[int, int], Owner] = {}

    def key(self, stream: str, owner: Owner = "") -> tuple[int, ...]:
        """The spawn-key suffix of ``owner``'s generator in ``stream`` (see the module doc)."""
        index = STREAMS.index(stream)
        parts = (owner,) if isinstance(owner, str) else tuple(owner)
        if any("/" in p for p in parts):
            return (index, *_exact_key(parts))
        crc = _owner_key(parts)
        # The owner as given: the internal owner ("recovery",) is not the station "recovery".
        first = self._taken.setdefault((index, crc), owner)
        return (index, crc) if first == owner else (index, *_exact_key(parts))

    def generator(self, stream: str, owner: Owner = "") -> np.random.Generator:
        """A generator for ``stream`` owned by ``owner`` (a name or a tuple of names)."""
        seq = np.random.SeedSequence(self._entropy,
                                     spawn_key=self._spawn_key + self.key(stream, owner))
        return np.random.Generator(np.random.PCG64(seq))

    def sampler(self, stream: str, owner: Owner, dist: Distribution) -> BlockSampler:
        """A block sampler of ``dist`` on its own generator."""
        return BlockSampler(dist, self.generator(stream, owner))


class BlockSampler:
    """Draws from a distribution in blocks; ``next()`` returns one value.

    The engine's hot path inlines ``values.pop()`` and calls :meth:`refill`
    only when the block is exhausted, so this class is deliberately tiny.
    """

    __slots__ = ("dist", "rng", "values")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self.dist = dist
        self.rng = rng
        #: Pending values, consumed from the end with ``list.pop()``.
        self.values: list[float] = []

    def refill(self) -> None:
        """Draw the next block (reversed so that ``pop()`` yields them in draw order)."""
        block = self.dist.sample(self.rng, BLOCK).tolist()
        block.reverse()
        self.values = block

    def next(self) -> float:
        """The next value of the stream."""
        if not self.values:
            self.refill()
        return self.values.pop()
