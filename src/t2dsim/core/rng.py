"""The one keyed random generator of t2dsim.

Every random number a simulation uses depends only on ``(seed, patient id, stream, index...)``, never
on a shared stream, so results do not depend on chunk size, worker count or the order patients are
simulated in (the Starsim idea of common random numbers per agent).

Two forms, both keyed the same way:

* :func:`keyed_uniform` / :func:`keyed_normal`: counter-based numbers computed element-wise from the
  keys by a SplitMix64 hash chain (Steele, Lea & Flood, OOPSLA 2014; the finaliser of Java's
  ``SplittableRandom``), vectorised over patients, days, visits and Monte Carlo rows. Normals are the
  inverse CDF (``scipy.special.ndtri``) of the uniforms, so one uniform gives one normal.
* :func:`patient_generators`: one NumPy ``Generator`` per patient, seeded by ``SeedSequence([seed,
  patient_id, stream...])``, for code that draws a fixed-length vector per patient once (cohort
  physiology, sensor noise).

Streams are named (``"assay:hba1c_percent"``, ``"titration:adherence"``); :func:`stream_id` turns a
name into a stable 63-bit key (SHA-256), so adding a stream never shifts another.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

__all__ = [
    "keyed_normal",
    "keyed_state",
    "keyed_uniform",
    "mix64",
    "patient_generators",
    "stream_id",
    "uniform_from_state",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO53 = 9007199254740992.0


def mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 step (add the golden gamma, then the finaliser), element-wise on uint64 (wraps)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


@lru_cache(maxsize=4096)
def stream_id(name: str) -> int:
    """A stable 63-bit integer key for a named random stream (first 8 bytes of its SHA-256)."""
    if not name:
        raise ValueError("a random stream needs a non-empty name")
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little") >> 1


def _key(k: ArrayLike | str) -> np.ndarray:
    if isinstance(k, str):
        return np.asarray(stream_id(k), dtype=np.uint64)
    a = np.asarray(k)
    if a.dtype.kind not in "iub":
        raise TypeError(f"keys for keyed random numbers must be integers or stream names, got dtype {a.dtype}")
    # negative integers (e.g. run-in days before randomisation) key by their two's complement
    return a.astype(np.int64).view(np.uint64) if a.dtype.kind == "i" else a.astype(np.uint64)


def keyed_state(seed: int, *keys: ArrayLike | str) -> NDArray[np.uint64]:
    """The hash-chain state after ``(seed, *keys)``: continue it with :func:`uniform_from_state`.

    ``uniform_from_state(keyed_state(seed, *a), *b) == keyed_uniform(seed, *a, *b)`` for any split of
    the keys, so a loop over cycles can hash the per-patient keys once (as the OM2 simulator does).
    """
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    h = mix64(np.full((), np.uint64(int(seed))))
    return _chain(h, keys)


def _chain(h: NDArray[np.uint64], keys: tuple) -> NDArray[np.uint64]:
    for a in np.broadcast_arrays(*[_key(k) for k in keys]) if keys else ():
        h = mix64(h ^ a)
    return h


@nb.njit(cache=True)
def _uniform_counter_kernel(state: NDArray[np.uint64], key: np.uint64) -> NDArray[np.float64]:  # pragma: no cover
    """``uniform_from_state(state, key)`` for a 1-D state and one integer key, in one pass: the same
    integer operations as :func:`mix64` (exact, wrapping uint64) and the same exact conversion."""
    out = np.empty(state.size, dtype=np.float64)
    s30, s27, s31, s11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
    for i in range(state.size):
        z = state[i] ^ key
        for _ in range(2):
            z = z + _GOLDEN
            z = (z ^ (z >> s30)) * _M1
            z = (z ^ (z >> s27)) * _M2
            z = z ^ (z >> s31)
        out[i] = (np.float64(z >> s11) + 0.5) / _TWO53
    return out


def uniform_from_state(state: NDArray[np.uint64], *keys: ArrayLike | str) -> NDArray[np.float64]:
    """Uniform(0, 1) numbers from a :func:`keyed_state` continued with ``keys`` (see there)."""
    if len(keys) == 1 and isinstance(keys[0], int | np.integer) and getattr(state, "ndim", 0) == 1:
        # the OM2 simulator's case (per-row states, one counter): a compiled loop, bit for bit the same
        return _uniform_counter_kernel(np.ascontiguousarray(state, dtype=np.uint64), _key(keys[0])[()])
    h = mix64(_chain(state, keys) if keys else state)
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / _TWO53


def keyed_uniform(seed: int, *keys: ArrayLike | str) -> NDArray[np.float64]:
    """Uniform(0, 1) numbers that depend only on ``(seed, *keys)``, element-wise.

    Args:
        seed: run seed (int ≥ 0).
        *keys: integer arrays (broadcast together: patient ids, visit or day index, replicate...;
            a negative integer keys by its two's complement) or stream names (str, turned into
            :func:`stream_id`).

    Returns:
        float64 array of the broadcast shape of the keys, strictly inside (0, 1) (53-bit resolution).
    """
    if not keys:
        keys = (0,)
    return uniform_from_state(keyed_state(seed, *keys))


def keyed_normal(seed: int, *keys: ArrayLike | str) -> NDArray[np.float64]:
    """Standard normal numbers depending only on ``(seed, *keys)`` (inverse CDF of :func:`keyed_uniform`)."""
    return ndtri(keyed_uniform(seed, *keys))


def patient_generators(seed: int, patient_ids: ArrayLike, *stream: int | str) -> list[np.random.Generator]:
    """One NumPy generator per patient, seeded by ``SeedSequence([seed, patient_id, *stream])``.

    For drawing a fixed-length vector per patient once (a Python call per patient: keep it out of
    time loops). Stream names are turned into :func:`stream_id`.
    """
    extra = [stream_id(s) if isinstance(s, str) else int(s) for s in stream]
    return [np.random.default_rng([int(seed), int(pid), *extra]) for pid in np.asarray(patient_ids).ravel()]
