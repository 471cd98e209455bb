"""Topp, Promislow, De Vries, Miura & Finegood 2000 βIG model (J Theor Biol 206:605–619).

A reference / teaching model of β-cell mass, insulin and glucose on the time scale of days:

    dG/dt = R0 − (EG0 + SI·I)·G                 G  glucose, mg/dL
    dI/dt = β·σ·G²/(α + G²) − k·I               I  insulin, µU/mL
    dβ/dt = (−d0 + r1·G − r2·G²)·β              β  β-cell mass, mg

Time unit: days. Parameters (``parameters/topp2000.csv``) are the Topp 2000 Table 1 values as listed
in ``shared/reference/physiology-models.md`` §4.2.

Fixed points (closed form, §4.3): β = 0 (pathological, G = R0/EG0), or r2·G² − r1·G + d0 = 0, whose
roots G− (physiological, stable node) and G+ (saddle) merge in a saddle-node bifurcation when
r1² = 4·r2·d0. Functions are vectorised: every parameter may be a scalar or an array of shape
``(n_patients,)``; :func:`integrate` steps a batch of patients with a fixed-step RK4 in NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "ToppParams",
    "topp_params",
    "rhs",
    "fixed_points",
    "discriminant",
    "saddle_node_d0",
    "integrate",
]


@dataclass(frozen=True)
class ToppParams:
    """Topp 2000 parameters; each a float or an array of shape ``(n_patients,)``.

    Units: R0 mg/dL/day; EG0 1/day; SI mL/(µU·day); sigma µU/(mL·day·mg); alpha mg²/dL²; k 1/day;
    d0 1/day; r1 (mg/dL)⁻¹/day; r2 (mg/dL)⁻²/day.
    """

    R0: ArrayLike = 864.0
    EG0: ArrayLike = 1.44
    SI: ArrayLike = 0.72
    sigma: ArrayLike = 43.2
    alpha: ArrayLike = 20000.0
    k: ArrayLike = 432.0
    d0: ArrayLike = 0.06
    r1: ArrayLike = 0.84e-3
    r2: ArrayLike = 0.24e-5

    def with_(self, **changes: ArrayLike) -> ToppParams:
        """Copy with some parameters replaced (e.g. ``p.with_(SI=0.5)``)."""
        return replace(self, **changes)

    def arrays(self) -> dict[str, np.ndarray]:
        """Parameters as float64 arrays (broadcastable)."""
        return {f.name: np.asarray(getattr(self, f.name), dtype=float) for f in fields(self)}


def topp_params() -> ToppParams:
    """Parameters read from ``parameters/topp2000.csv`` (name, value, unit, source)."""
    with resources.files("t2dsim.physiology.parameters").joinpath("topp2000.csv").open("r") as fh:
        table = pd.read_csv(fh)
    values = dict(zip(table["name"], table["value"].astype(float), strict=True))
    return ToppParams(**values)


def rhs(state: np.ndarray, p: ToppParams) -> np.ndarray:
    """Time derivative of ``state`` = (..., [G mg/dL, I µU/mL, β mg]) in units per day."""
    a = p.arrays()
    g, i, b = state[..., 0], state[..., 1], state[..., 2]
    dg = a["R0"] - (a["EG0"] + a["SI"] * i) * g
    di = b * a["sigma"] * g**2 / (a["alpha"] + g**2) - a["k"] * i
    db = (-a["d0"] + a["r1"] * g - a["r2"] * g**2) * b
    return np.stack(np.broadcast_arrays(dg, di, db), axis=-1)


def discriminant(p: ToppParams) -> np.ndarray:
    """r1² − 4·r2·d0 ((mg/dL)⁻²/day²): positive ⇔ the physiological state and the saddle exist."""
    a = p.arrays()
    return a["r1"] ** 2 - 4.0 * a["r2"] * a["d0"]


def saddle_node_d0(p: ToppParams) -> np.ndarray:
    """Death rate d0 (1/day) at which the physiological node and the saddle merge: r1²/(4·r2)."""
    a = p.arrays()
    return a["r1"] ** 2 / (4.0 * a["r2"])


def _point(g: np.ndarray, a: dict[str, np.ndarray]) -> np.ndarray:
    i = (a["R0"] / g - a["EG0"]) / a["SI"]
    b = a["k"] * i * (a["alpha"] + g**2) / (a["sigma"] * g**2)
    return np.stack(np.broadcast_arrays(g, i, b), axis=-1)


def fixed_points(p: ToppParams) -> dict[str, np.ndarray]:
    """Closed-form fixed points, each an array ``(..., 3)`` of (G mg/dL, I µU/mL, β mg).

    Keys: ``physiological`` (G− root, stable node), ``saddle`` (G+ root) and ``pathological``
    (β = 0, I = 0, G = R0/EG0). Where the discriminant is negative (beyond the saddle-node) the first
    two are NaN. A root is also NaN when it implies negative insulin (G ≥ R0/EG0).
    """
    a = p.arrays()
    disc = discriminant(p)
    root = np.sqrt(np.where(disc >= 0.0, disc, np.nan))
    g_minus = (a["r1"] - root) / (2.0 * a["r2"])
    g_plus = (a["r1"] + root) / (2.0 * a["r2"])
    g_path = a["R0"] / a["EG0"]
    phys = _point(np.where(g_minus < g_path, g_minus, np.nan), a)
    sad = _point(np.where(g_plus < g_path, g_plus, np.nan), a)
    path = np.stack(np.broadcast_arrays(g_path, 0.0 * g_path, 0.0 * g_path), axis=-1)
    return {"physiological": phys, "saddle": sad, "pathological": path}


def integrate(
    state0: ArrayLike,
    p: ToppParams,
    days: float,
    dt_days: float = 0.002,
    si_of_t: object | None = None,
    record_every: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-step RK4 over a batch: ``state0`` shape ``(n, 3)`` or ``(3,)``.

    ``si_of_t``, if given, is a callable t (days) → SI (scalar or ``(n,)``) that overrides ``p.SI``
    (a prescribed insulin-sensitivity trajectory). Returns (times in days, states ``(n_rec, ..., 3)``)
    recorded every ``record_every`` steps. The insulin equation is stiff (k = 432/day): keep
    ``dt_days`` ≤ 0.004 for RK4 stability (k·dt ≤ 2.78).
    """
    if days <= 0 or dt_days <= 0:
        raise ValueError(f"days and dt_days must be > 0 (got days={days}, dt_days={dt_days})")
    x = np.array(state0, dtype=float)
    n_steps = int(round(days / dt_days))
    times, out = [0.0], [x.copy()]

    def f(t: float, y: np.ndarray) -> np.ndarray:
        q = p if si_of_t is None else p.with_(SI=si_of_t(t))  # type: ignore[operator]
        return rhs(y, q)

    t = 0.0
    for step in range(1, n_steps + 1):
        k1 = f(t, x)
        k2 = f(t + dt_days / 2, x + dt_days / 2 * k1)
        k3 = f(t + dt_days / 2, x + dt_days / 2 * k2)
        k4 = f(t + dt_days, x + dt_days * k3)
        x = x + dt_days / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t = step * dt_days
        if step % record_every == 0 or step == n_steps:
            times.append(t)
            out.append(x.copy())
    return np.asarray(times), np.asarray(out)
