"""Glucose-lowering drugs: metformin, sulfonylurea, GLP-1 receptor agonist, SGLT2 inhibitor.

Each drug maps a dose to a fractional effect with an Emax model, E(D) = D/(D + ED50) (0–1), scaled
by adherence, the patient's own response multiplier (log-normal, CV from the parameter table, drawn
from the patient's keyed stream) and the patient's on-treatment mask (set by a treatment plan).
Every number comes from ``parameters/standard_care.csv`` (value, unit, source, tag: V verified,
S secondary, U unverified, C calibrated, D design choice); docs/standard_care.md lists which trial
each calibrated value was fitted to and which trial validates it.

Mechanisms (progression effects → meal-model modifiers):

* **metformin**: lower hepatic glucose output, ``hgp_mult = 1 − Emax·E`` (Hundal et al. 2000:
  EGP −24 %). The meal model receives the same multiplier on EGPb through the coupling (the engine
  passes the combined ``hgp_mult``), so no extra meal modifier is returned (that would count twice).
* **sulfonylurea**: more glucose-stimulated secretion (``secretion_mult``, a left shift/amplification
  of the Ha 2016 secretion curve) plus, in the meal model, a glucose-independent secretion ``Sfix``
  (pmol/kg/min) that does not switch off when glucose falls → hypoglycaemia. Secondary failure
  (ADOPT) is **not** modelled: the progression model has no pathway by which secretagogue stress
  speeds β-cell loss and ``beta_protect`` may not be negative; left out on purpose (docs). The effect
  size is fitted on Hirst 2013's pooled monotherapy estimate (nine trials); Goldberg 1996's three dose
  arms are then inside their CIs, and as add-on to metformin the SU exceeds LEAD-2's glimepiride arm
  (−1.35 vs −1.1 %) (docs/standard_care.md, known failures).
* **GLP-1 RA**: glucose-dependent secretion (``secretion_mult``; the Ha secretion term is itself
  glucose dependent, so no secretion is added at low glucose) and the same multiplier on the meal
  model's glucose-driven gains ``beta_Y`` and ``K``; slower gastric emptying (``kmax``/``kmin``
  multipliers, with tachyphylaxis for long-acting agents); weight loss via
  :meth:`weight_change_frac` (the engine turns it into BMI, which acts on insulin sensitivity
  through the progression model's BMI term).
* **SGLT2 inhibitor**: urinary glucose loss above a lowered renal threshold. In the progression model
  the excretion ``UGE = f·GFR·(Ḡ − RTG)`` (mg/day; Ḡ the mean glucose implied by the fasting-like G)
  is turned into the clearance ``glucose_loss_per_day = UGE/(V_G·BW·G)`` each segment; in the meal
  model the renal threshold ``ke2`` is lowered to RTG and the renal rate ``ke1`` raised so that the
  excretion slope is f·GFR (Dalla Man 2007: E = ke1·(Gp − ke2)). The known compensatory rise of
  endogenous glucose production (glucagon) is a small ``hgp_mult`` increase.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from t2dsim.core.registry import register_therapy
from t2dsim.core.rng import keyed_normal
from t2dsim.core.specs import TherapySpecBase, spec_error
from t2dsim.physiology import glycation
from t2dsim.therapies.base import PatientContext, Risk, Therapy, schedule_days

__all__ = [
    "GLP1RASpec",
    "MetforminSpec",
    "SGLT2iSpec",
    "SulfonylureaSpec",
    "GLP1_DRUGS",
    "SGLT2_DRUGS",
    "SU_DRUGS",
    "GLP1RA",
    "Metformin",
    "SGLT2Inhibitor",
    "StandardCareTherapy",
    "Sulfonylurea",
    "emax_fraction",
    "parameter",
    "parameter_table",
]


@lru_cache(maxsize=1)
def parameter_table() -> pd.DataFrame:
    """The standard-care parameter table (name, value, unit, source, tag)."""
    with resources.files("t2dsim.therapies.parameters").joinpath("standard_care.csv").open("r") as fh:
        return pd.read_csv(fh).set_index("name")


def parameter(name: str) -> float:
    """One value of the standard-care parameter table (unit in the table)."""
    table = parameter_table()
    if name not in table.index:
        raise KeyError(f"unknown standard-care parameter {name!r}")
    return float(table.loc[name, "value"])


def emax_fraction(dose: float | np.ndarray, ed50: float) -> np.ndarray:
    """Fraction of the maximal effect at ``dose`` (same unit as ``ed50``): D/(D + ED50)."""
    d = np.asarray(dose, dtype=float)
    if np.any(d < 0):
        raise ValueError(f"dose must be ≥ 0, got {dose}")
    return d / (d + ed50)


class StandardCareTherapy(Therapy):
    """A therapy with a per-patient on-treatment mask and per-patient start day.

    ``mask`` (n,) is 1 for patients on the therapy (all by default); a treatment plan switches
    patients on with :meth:`switch_on`. ``on_since_day`` (n,) is the day each patient started (NaN
    if not on). ``response`` (n,) is the patient's effect multiplier drawn in :meth:`setup`.
    """

    response_cv_name: str | None = None

    def __init__(self, start_day: int = 0, stop_day: int | None = None, adherence: float = 1.0) -> None:
        super().__init__(start_day, stop_day, adherence)
        self.mask: np.ndarray = np.zeros(0)
        self.on_since_day: np.ndarray = np.zeros(0)
        self.response: np.ndarray = np.zeros(0)
        self.planned = False  # True when a treatment plan controls the mask

    def setup(self, ctx: PatientContext) -> None:
        self.mask = np.zeros(ctx.n) if self.planned else np.ones(ctx.n)
        self.on_since_day = np.full(ctx.n, np.nan) if self.planned else np.full(ctx.n, float(self.start_day))
        if self.response_cv_name is None:
            self.response = np.ones(ctx.n)
        else:
            cv = parameter(self.response_cv_name)
            sd = np.sqrt(np.log1p(cv * cv))
            z = keyed_normal(ctx.seed, ctx.patient_ids, f"response:{self.kind}")
            self.response = np.exp(sd * z - 0.5 * sd * sd)  # mean 1

    def switch_on(self, which: np.ndarray, day: int) -> None:
        """Start the therapy on ``day`` for patients where ``which`` is True (and not yet on)."""
        new = np.asarray(which, bool) & (self.mask == 0)
        self.mask = np.where(new, 1.0, self.mask)
        self.on_since_day = np.where(new, float(day), self.on_since_day)

    def days_on(self, day: int) -> np.ndarray:
        """Days each patient has been on the therapy (0 if not on)."""
        return np.where(self.mask > 0, np.maximum(day - np.nan_to_num(self.on_since_day, nan=day), 0.0), 0.0)

    def exposure(self) -> np.ndarray:
        """Adherence × mask × response (n,): the per-patient scale of the drug's effect."""
        return self.adherence * self.mask * self.response

    def weight_change_frac(self, ctx: PatientContext, day: int) -> np.ndarray:
        """Fractional body-weight change caused by the therapy on ``day`` (negative = loss)."""
        return np.zeros(ctx.n)


class Metformin(StandardCareTherapy):
    """Metformin, ``dose_mg_per_day`` 0–3000 mg/day (EU SmPC maximum)."""

    kind = "metformin"
    response_cv_name = "metformin_response_cv"
    risks = (
        Risk("gastrointestinal intolerance", "diarrhoea, nausea", "Garber et al. Am J Med 1997: 28 % vs 15 % placebo",
             0.13, period="treatment-related excess over placebo, 11 weeks", severity="minor"),
        Risk("lactic acidosis", "rare; renal impairment", "product label", severity="life-threatening"),
        Risk("vitamin B12 deficiency", "long-term use", "product label", severity="minor"),
    )  # fmt: skip

    def __init__(self, dose_mg_per_day: float = 2000.0, **kw) -> None:
        super().__init__(**kw)
        if not 0.0 <= dose_mg_per_day <= 3000.0:
            raise ValueError(f"metformin dose_mg_per_day must lie in [0, 3000] mg/day, got {dose_mg_per_day}")
        self.dose_mg_per_day = float(dose_mg_per_day)

    def hgp_reduction(self) -> np.ndarray:
        """Fractional reduction of hepatic glucose output per patient (0–Emax·response)."""
        e = parameter("metformin_emax") * emax_fraction(self.dose_mg_per_day, parameter("metformin_ed50_mg"))
        # capped at 40 %: the meal model needs EGPb > Fsnc (Dalla Man basal balance) at every visit
        return np.clip(e * self.exposure(), 0.0, 0.4)

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"hgp_mult": 1.0 - self.hgp_reduction()}

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"metformin_mg_per_day": self.dose_mg_per_day * self.mask}


SU_DRUGS = ("glimepiride", "gliclazide", "glibenclamide", "glipizide")


class Sulfonylurea(StandardCareTherapy):
    """Sulfonylurea ``drug`` at ``dose_mg_per_day`` (0 to the label maximum)."""

    kind = "sulfonylurea"
    response_cv_name = "su_response_cv"
    risks = (
        Risk("hypoglycaemia", "any reported hypoglycaemia (glyburide, ADOPT 4 y)",
             "Kahn et al. NEJM 2006 / Herman ADA 2007: 39 % glyburide vs 12 % metformin", 0.39, period="4 years"),
        Risk("weight gain", "+1.6 to +1.8 kg at 4-5 y (ADOPT glyburide)", "Kahn et al. NEJM 2006", severity="minor"),
        Risk("secondary failure", "faster loss of glycaemic control than metformin (ADOPT 5-y failure 34 % vs 21 %); "
             "not modelled mechanistically", "Kahn et al. NEJM 2006;355:2427", 0.34, period="5 years"),
    )  # fmt: skip

    def __init__(self, drug: str = "glimepiride", dose_mg_per_day: float = 4.0, **kw) -> None:
        super().__init__(**kw)
        if drug not in SU_DRUGS:
            raise ValueError(f"sulfonylurea drug must be one of {', '.join(SU_DRUGS)}, got {drug!r}")
        hi = parameter(f"su_max_dose_{drug}_mg")
        if not 0.0 <= dose_mg_per_day <= hi:
            raise ValueError(
                f"sulfonylurea dose_mg_per_day for {drug} must lie in [0, {hi:g}] mg/day, got {dose_mg_per_day}"
            )
        self.drug = drug
        self.dose_mg_per_day = float(dose_mg_per_day)

    def fraction(self) -> np.ndarray:
        """Fraction of the maximal SU effect per patient (dose relative to the label maximum)."""
        rel = self.dose_mg_per_day / parameter(f"su_max_dose_{self.drug}_mg")
        return emax_fraction(rel, parameter("su_ed50_rel")) * self.exposure()

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"secretion_mult": 1.0 + parameter("su_secretion_emax") * self.fraction()}

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        # The meal model's glucose-stimulated secretion is amplified as the progression model's is
        # (``secretion_mult`` on Ha's ISR): the derivative gain K, which acts only while glucose rises,
        # and the proportional gain β_Y *above* threshold only (``beta_Y_up``). Scaling β_Y itself would
        # also deepen the suppression of secretion when glucose falls below basal — the opposite of
        # K-ATP closure downstream of glucose metabolism (Proks/Ashcroft); Sfix is the
        # glucose-independent part that keeps secreting at low glucose.
        f = self.fraction()
        amp = 1.0 + parameter("su_secretion_emax") * f
        return {"K": amp, "beta_Y_up": amp, "Sfix": parameter("su_sfix_max_pmol_kg_min") * f}

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"sulfonylurea_mg_per_day": self.dose_mg_per_day * self.mask}


#: GLP-1 RA label doses (mg per injection): liraglutide daily, semaglutide and dulaglutide weekly.
GLP1_DRUGS = {"semaglutide": (0.0, 2.0), "liraglutide": (0.0, 1.8), "dulaglutide": (0.0, 4.5)}


class GLP1RA(StandardCareTherapy):
    """GLP-1 receptor agonist ``drug`` at ``dose_mg`` per injection."""

    kind = "glp1ra"
    response_cv_name = "glp1_response_cv"
    risks = (
        Risk("nausea and vomiting", "gastrointestinal adverse events, mostly early", "LEAD-2: nausea 11-19 %",
             0.15, 0.11, 0.19, period="26 weeks", severity="minor"),
        Risk("gallbladder disease", "cholelithiasis", "product labels"),
        Risk("pancreatitis", "rare", "product labels", severity="serious"),
    )  # fmt: skip

    def __init__(self, drug: str = "semaglutide", dose_mg: float = 1.0, **kw) -> None:
        super().__init__(**kw)
        if drug not in GLP1_DRUGS:
            raise ValueError(f"GLP-1 RA drug must be one of {', '.join(GLP1_DRUGS)}, got {drug!r}")
        lo, hi = GLP1_DRUGS[drug]
        if not lo <= dose_mg <= hi:
            raise ValueError(f"GLP-1 RA dose_mg for {drug} must lie in [{lo:g}, {hi:g}] mg, got {dose_mg}")
        self.drug = drug
        self.dose_mg = float(dose_mg)

    def fraction(self) -> np.ndarray:
        return emax_fraction(self.dose_mg, parameter(f"glp1_ed50_{self.drug}_mg")) * self.exposure()

    def secretion_mult(self) -> np.ndarray:
        return 1.0 + parameter(f"glp1_secretion_emax_{self.drug}") * self.fraction()

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"secretion_mult": self.secretion_mult()}

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        s = self.secretion_mult()
        t = self.days_on(day)
        slow = parameter("glp1_gastric_emptying_max") * self.fraction()
        res = parameter("glp1_gastric_residual")
        slow = slow * (res + (1.0 - res) * np.exp(-t / parameter("glp1_gastric_tachyphylaxis_days")))
        return {"beta_Y": s, "K": s, "kmax": 1.0 - slow, "kmin": 1.0 - slow}

    def weight_change_frac(self, ctx: PatientContext, day: int) -> np.ndarray:
        w = parameter(f"glp1_weight_loss_frac_{self.drug}") * self.fraction()
        return -w * (1.0 - np.exp(-self.days_on(day) / parameter("glp1_weight_tau_days")))

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"glp1ra_mg": self.dose_mg * self.mask}


SGLT2_DRUGS = {"empagliflozin": (0.0, 25.0), "dapagliflozin": (0.0, 10.0), "canagliflozin": (0.0, 300.0)}


class SGLT2Inhibitor(StandardCareTherapy):
    """SGLT2 inhibitor ``drug`` at ``dose_mg_per_day``; ``egfr_ml_min`` scalar or (n,) (default 90)."""

    kind = "sglt2i"
    risks = (
        Risk("genital mycotic infections", "dapagliflozin monotherapy meta-analysis RR 3.52",
             "Medicine 2019 meta-analysis (PMC6709066)", severity="minor"),
        Risk("urinary tract infection", "RR 1.74", "Medicine 2019 meta-analysis (PMC6709066)", severity="minor"),
        Risk("euglycaemic ketoacidosis", "rare", "product labels", severity="serious"),
    )  # fmt: skip

    def __init__(
        self, drug: str = "empagliflozin", dose_mg_per_day: float = 10.0, egfr_ml_min: float | np.ndarray | None = None,
        **kw,
    ) -> None:  # fmt: skip
        super().__init__(**kw)
        if drug not in SGLT2_DRUGS:
            raise ValueError(f"SGLT2 inhibitor drug must be one of {', '.join(SGLT2_DRUGS)}, got {drug!r}")
        lo, hi = SGLT2_DRUGS[drug]
        if not lo <= dose_mg_per_day <= hi:
            raise ValueError(
                f"SGLT2 inhibitor dose_mg_per_day for {drug} must lie in [{lo:g}, {hi:g}] mg/day, got {dose_mg_per_day}"
            )
        gfr = parameter("sglt2_gfr_default_ml_min") if egfr_ml_min is None else egfr_ml_min
        if np.any(np.asarray(gfr) < 0) or np.any(np.asarray(gfr) > 200):
            raise ValueError(f"egfr_ml_min must lie in [0, 200] mL/min, got {egfr_ml_min}")
        self.drug = drug
        self.dose_mg_per_day = float(dose_mg_per_day)
        self.egfr_ml_min = gfr
        self.glucose_mgdl: np.ndarray | None = None

    def fraction(self) -> np.ndarray:
        return emax_fraction(self.dose_mg_per_day, parameter(f"sglt2_ed50_{self.drug}_mg")) * self.exposure()

    def excretion_slope_dl_per_day(self, n: int) -> np.ndarray:
        """f·GFR (dL/day): urinary glucose per mg/dL of glucose above the lowered threshold."""
        gfr_dl_min = np.broadcast_to(np.asarray(self.egfr_ml_min, dtype=float), (n,)) / 100.0
        return parameter("sglt2_fraction_filtered_excreted") * self.fraction() * gfr_dl_min * 1440.0

    def uge_g_per_day(self, ctx: PatientContext, fasting_glucose_mgdl: np.ndarray) -> np.ndarray:
        """Urinary glucose excretion (g/day) at a fasting-like glucose (mean glucose from Wei 2014/ADAG)."""
        gm = glycation.mean_glucose_from_fpg(fasting_glucose_mgdl)
        excess = np.maximum(gm - parameter("sglt2_rtg_on_drug_mgdl"), 0.0)
        return self.excretion_slope_dl_per_day(ctx.n) * excess / 1000.0

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        self.glucose_mgdl = np.asarray(state["glucose_mgdl"], dtype=float)

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        g = self.glucose_mgdl if self.glucose_mgdl is not None else np.full(ctx.n, 150.0)
        uge_mg = self.uge_g_per_day(ctx, g) * 1000.0
        loss = uge_mg / (parameter("glucose_volume_dl_per_kg") * ctx.body_weight_kg * np.maximum(g, 1.0))
        comp = parameter("sglt2_egp_compensation") * self.fraction()
        return {"glucose_loss_per_day": np.clip(loss, 0.0, 50.0), "hgp_mult": 1.0 + comp}

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        f = self.fraction()
        vg = parameter("vg_t2d_dl_per_kg")
        ke2_new = parameter("sglt2_rtg_on_drug_mgdl") * vg  # mg/kg
        # Dalla Man T2D ke2 269 mg/kg and ke1 0.0007 1/min (coupling interpolates; the T2D end is used here)
        ke2_mult = np.where(f > 0, ke2_new / 269.0, 1.0)
        slope_per_min = self.excretion_slope_dl_per_day(ctx.n) / 1440.0 / (ctx.body_weight_kg * vg)  # 1/min
        ke1_mult = np.where(f > 0, np.maximum(slope_per_min / 0.0007, 1.0), 1.0)
        return {"ke2": ke2_mult, "ke1": ke1_mult}

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        out = {"sglt2i_mg_per_day": self.dose_mg_per_day * self.mask}
        if self.glucose_mgdl is not None:
            out["uge_g_per_day"] = self.uge_g_per_day(ctx, self.glucose_mgdl)
        return out


# ---------------------------------------------------------------------------------------------------
# Protocol specifications (kinds metformin, sulfonylurea, glp1ra, sglt2i)
# ---------------------------------------------------------------------------------------------------

ADHERENCE_FIELD = Field(default=1.0, ge=0, le=1, description="fraction of doses taken (0-1)")


class _LabelDosedSpec(TherapySpecBase):
    """A drug whose dose must lie within its label range (``label_doses[drug]``, in ``dose_unit``)."""

    label_doses: ClassVar[dict[str, tuple[float, float]]] = {}
    dose_field: ClassVar[str] = "dose_mg_per_day"
    dose_unit: ClassVar[str] = "mg/day"

    @model_validator(mode="after")
    def _dose_in_label_range(self) -> _LabelDosedSpec:
        drug, dose, unit = self.drug, getattr(self, self.dose_field), self.dose_unit  # type: ignore[attr-defined]
        lo, hi = self.label_doses[drug]
        if not lo <= dose <= hi:
            raise spec_error("dose", f"{dose:g} {unit} is outside the allowed range [{lo:g}, {hi:g}] {unit} for {drug}")
        return self


class MetforminSpec(TherapySpecBase):
    """Metformin, 250-3000 mg/day (EU SmPC maximum 3000 mg/day, usual 2000 mg)."""

    kind: Literal["metformin"]
    dose_mg_per_day: float = Field(default=2000.0, ge=250, le=3000, description="mg/day")
    adherence: float = ADHERENCE_FIELD
    risks: ClassVar[tuple[str, ...]] = (
        "gastrointestinal intolerance",
        "vitamin B12 deficiency (long term)",
        "lactic acidosis (rare; renal impairment)",
    )

    def therapy(self, window: bool = True) -> Metformin:
        return Metformin(self.dose_mg_per_day, adherence=self.adherence, **schedule_days(self, window))


#: Label dose ranges (mg/day).
SU_DOSES = {
    "gliclazide": (40.0, 320.0),
    "glimepiride": (1.0, 8.0),
    "glibenclamide": (1.25, 20.0),
    "glipizide": (2.5, 40.0),
}


class SulfonylureaSpec(_LabelDosedSpec):
    """Sulfonylurea; dose within the label range of the drug (mg/day)."""

    kind: Literal["sulfonylurea"]
    drug: Literal["gliclazide", "glimepiride", "glibenclamide", "glipizide"] = "glimepiride"
    dose_mg_per_day: float = 4.0
    adherence: float = ADHERENCE_FIELD
    risks: ClassVar[tuple[str, ...]] = ("hypoglycaemia", "weight gain")
    label_doses: ClassVar[dict[str, tuple[float, float]]] = SU_DOSES

    def therapy(self, window: bool = True) -> Sulfonylurea:
        return Sulfonylurea(self.drug, self.dose_mg_per_day, adherence=self.adherence, **schedule_days(self, window))


#: Label dose ranges (mg/day).
SGLT2_DOSES = {"empagliflozin": (10.0, 25.0), "dapagliflozin": (5.0, 10.0), "canagliflozin": (100.0, 300.0)}


class SGLT2iSpec(_LabelDosedSpec):
    """SGLT2 inhibitor; label dose ranges (mg/day); ``egfr_ml_min`` (15-200 mL/min) scales urinary glucose
    loss (default 90)."""

    kind: Literal["sglt2i"]
    drug: Literal["empagliflozin", "dapagliflozin", "canagliflozin"] = "empagliflozin"
    dose_mg_per_day: float = 10.0
    adherence: float = ADHERENCE_FIELD
    egfr_ml_min: float | None = Field(default=None, ge=15, le=200, description="mL/min")
    risks: ClassVar[tuple[str, ...]] = (
        "genital mycotic infections",
        "volume depletion",
        "euglycaemic ketoacidosis (rare)",
    )
    label_doses: ClassVar[dict[str, tuple[float, float]]] = SGLT2_DOSES

    def therapy(self, window: bool = True) -> SGLT2Inhibitor:
        return SGLT2Inhibitor(
            self.drug, self.dose_mg_per_day, egfr_ml_min=self.egfr_ml_min, adherence=self.adherence,
            **schedule_days(self, window),
        )  # fmt: skip


#: Label dose ranges (mg per injection; liraglutide daily, the others weekly).
GLP1_DOSES = {"liraglutide": (0.6, 1.8), "semaglutide": (0.25, 2.0), "dulaglutide": (0.75, 4.5)}


class GLP1RASpec(_LabelDosedSpec):
    """GLP-1 receptor agonist; ``dose_mg`` per injection within the label range."""

    kind: Literal["glp1ra"]
    drug: Literal["liraglutide", "semaglutide", "dulaglutide"] = "semaglutide"
    dose_mg: float = 1.0
    adherence: float = ADHERENCE_FIELD
    risks: ClassVar[tuple[str, ...]] = ("nausea and vomiting", "gallbladder disease", "pancreatitis (rare)")
    label_doses: ClassVar[dict[str, tuple[float, float]]] = GLP1_DOSES
    dose_field: ClassVar[str] = "dose_mg"
    dose_unit: ClassVar[str] = "mg per injection"

    def therapy(self, window: bool = True) -> GLP1RA:
        return GLP1RA(self.drug, self.dose_mg, adherence=self.adherence, **schedule_days(self, window))


for _spec in (MetforminSpec, SulfonylureaSpec, SGLT2iSpec, GLP1RASpec):
    register_therapy(_spec)
