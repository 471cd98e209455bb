"""Risk catalogue of the stem-cell therapies (shown beside every benefit the tool reports).

Sources are the evidence note ``shared/reference/stem-cell-evidence.md`` §6 and §8 (tags V/S/D kept in
the ``source`` text). Rates are probabilities per patient over ``period`` with a 95 % interval where
the source gives one; ``None`` where no rate is known (the risk is still listed).
"""

from __future__ import annotations

from t2dsim.core.intervals import wilson_ci
from t2dsim.therapies.base import Risk

__all__ = [
    "UNREGULATED_CLINIC_WARNING",
    "MSC_INFUSION_RISKS",
    "ARTERIAL_PROCEDURE_RISKS",
    "BM_HARVEST_RISKS",
    "PORTAL_INFUSION_RISKS",
    "IMMUNOSUPPRESSION_RISKS",
    "PLURIPOTENT_PRODUCT_RISKS",
    "DEVICE_RISKS",
    "HYPOGLYCAEMIA_RISK",
    "msc_risks",
    "bmmnc_risks",
    "islet_risks",
]

#: Shown with every stem-cell result (FDA consumer warning 2021; ISSCR 2010/2021; Kuriyan NEJM 2017).
UNREGULATED_CLINIC_WARNING = Risk(
    name="unregulated clinics",
    description=(
        "No stem-cell product is approved for type 2 diabetes. Products sold outside regulated trials "
        "have caused blindness, tumours and infections; listing on clinicaltrials.gov or FDA "
        "registration is not approval."
    ),
    source=(
        "US FDA consumer information on regenerative medicine therapies (3 Jun 2021) (V); Kuriyan et al. "
        "NEJM 376:1047, 2017 (3 patients blinded after intravitreal adipose 'stem cells') (V); Berkowitz "
        "et al. NEJM 2016 (donor-derived spinal-cord lesion after clinic injections) (V); ISSCR Task Force, "
        "Cell Stem Cell 7:43, 2010 (V)"
    ),
    severity="life-threatening",
)

HYPOGLYCAEMIA_RISK = Risk(
    name="hypoglycaemia",
    description="if insulin or sulfonylurea doses are not reduced as glucose improves",
    source="Lian 2022 (1 nocturnal hypoglycaemia in 16); Bhansali 2017 (minor hypoglycaemia) (V)",
    severity="moderate",
)

MSC_INFUSION_RISKS: tuple[Risk, ...] = (
    Risk(
        name="transient fever",
        description="fever within days of an intravenous MSC infusion (odds ratio vs control)",
        source="Wang Y et al., Stem Cell Res Ther 12:545, 2021 (62 RCTs, 3546 participants): OR 3.65 "
        "(2.05-6.49) (V); Lalu et al. PLoS One 7:e47559, 2012 (SafeCell) (V); Lian 2022: 4/16 (V)",
        rate=4 / 16,
        rate_low=wilson_ci(4, 16)[0],
        rate_high=wilson_ci(4, 16)[1],
        period="per course (Lian 2022 share; interval Wilson 95 %)",
        severity="minor",
    ),
    Risk(
        name="infusion-site events",
        description="administration-site reactions (odds ratio 1.98, 1.01-3.87)",
        source="Wang Y et al. 2021 (V)",
        severity="minor",
    ),
    Risk(
        name="other minor events",
        description="constipation (OR 2.45), fatigue (OR 2.99), sleeplessness (OR 5.90)",
        source="Wang Y et al. 2021 (V)",
        severity="minor",
    ),
    Risk(
        name="thrombosis / pulmonary embolism (theoretical)",
        description="most IV MSCs are trapped in lung microvessels on first pass; no excess of serious "
        "events was found in meta-analyses, but trials are small",
        source="Fischer et al. Stem Cells Dev 18:683, 2009; Masterson et al. Sci Rep 11:5265, 2021; "
        "Wang Y 2021: no excess death or infection (V)",
        severity="serious",
    ),
    Risk(
        name="unknown long-term risks",
        description="ectopic tissue or tumour formation not seen in trials or autopsies (von Bahr 2012) "
        "but follow-up rarely exceeds 1-3 years",
        source="von Bahr et al. Biol Blood Marrow Transplant 2012 (V via summaries); evidence note §9",
        severity="serious",
    ),
)

ARTERIAL_PROCEDURE_RISKS: tuple[Risk, ...] = (
    Risk(
        name="arterial catheterisation",
        description="puncture-site bleeding or haematoma, abdominal pain, extravasation, nausea/vomiting",
        source="Wu Z 2014: abdominal pain 5/40, puncture-site bleeding 3/40 (V); Liu 2014; Bhansali 2017",
        rate=8 / 40,
        rate_low=wilson_ci(8, 40)[0],
        rate_high=wilson_ci(8, 40)[1],
        period="per arterial procedure (Wu 2014, any of the two events; Wilson 95 %)",
        severity="moderate",
    ),
    Risk(
        name="transient fall of C-peptide after intra-arterial injection",
        description="C-peptide and β-cell function dipped at 1 month in Liu 2014",
        source="Liu X et al., Stem Cell Res Ther 5:57, 2014 (V, no magnitude)",
        severity="minor",
    ),
)

BM_HARVEST_RISKS: tuple[Risk, ...] = (
    Risk(
        name="bone-marrow harvest",
        description="150-220 mL aspirated under local anaesthesia; pain, bleeding; G-CSF mobilisation "
        "(Bhansali 2014) adds bone pain",
        source="Sood 2017 (V); Bhansali 2014 Cell Transplant (V)",
        severity="minor",
    ),
)

PORTAL_INFUSION_RISKS: tuple[Risk, ...] = (
    Risk(
        name="bleeding after portal infusion",
        description="intraperitoneal or hepatic bleeding after percutaneous portal access",
        source="Ryan et al. Diabetes 54:2060, 2005: 15/128 procedures (V, D)",
        rate=15 / 128,
        rate_low=wilson_ci(15, 128)[0],
        rate_high=wilson_ci(15, 128)[1],
        period="per infusion (Wilson 95 %)",
        severity="serious",
    ),
    Risk(
        name="portal-vein branch thrombosis",
        description="partial portal-vein thrombosis",
        source="Ryan et al. 2005: 5/128 procedures (V, D)",
        rate=5 / 128,
        rate_low=wilson_ci(5, 128)[0],
        rate_high=wilson_ci(5, 128)[1],
        period="per infusion (Wilson 95 %)",
        severity="serious",
    ),
    Risk(
        name="any serious procedure or immunosuppression reaction",
        description="liver laceration/haematoma, bleeding, raised portal pressure, infection, malignancy",
        source="Lantidra (donislecel) FDA label 2023: 90 % of 30 recipients had ≥1 serious adverse "
        "reaction (V, press coverage of the label)",
        rate=27 / 30,
        rate_low=wilson_ci(27, 30)[0],
        rate_high=wilson_ci(27, 30)[1],
        period="per recipient over follow-up",
        severity="serious",
    ),
)

IMMUNOSUPPRESSION_RISKS: tuple[Risk, ...] = (
    Risk(
        name="serious infection",
        description="opportunistic infection under lifelong immunosuppression (fatal cryptococcal "
        "meningitis in the zimislecel trial)",
        source="Reichman et al. NEJM 393:858, 2025: 2 deaths among 14 (one infection) (V)",
        rate=1 / 14,
        rate_low=wilson_ci(1, 14)[0],
        rate_high=wilson_ci(1, 14)[1],
        period="per patient, first year (Wilson 95 %)",
        severity="life-threatening",
    ),
    Risk(
        name="neutropenia",
        description="the commonest serious adverse event with zimislecel",
        source="Reichman et al. 2025: 3/14 (V)",
        rate=3 / 14,
        rate_low=wilson_ci(3, 14)[0],
        rate_high=wilson_ci(3, 14)[1],
        period="per patient, first year (Wilson 95 %)",
        severity="serious",
    ),
    Risk(
        name="kidney function decline",
        description="calcineurin-inhibitor nephrotoxicity (eGFR falls)",
        source="Reichman 2025 (V/S); Shapiro 2006 NEJM; Ryan 2005 (V)",
        severity="serious",
    ),
    Risk(
        name="malignancy",
        description="skin cancer and other malignancy under immunosuppression",
        source="Lantidra label 2023 (V, press coverage)",
        severity="life-threatening",
    ),
    Risk(
        name="other immunosuppression effects",
        description="mouth ulcers, anaemia, leukopenia, diarrhoea, ovarian cysts",
        source="Ryan 2005; Shapiro 2006 (V)",
        severity="moderate",
    ),
    Risk(
        name="β-cell toxicity of calcineurin inhibitors",
        description="tacrolimus impairs insulin secretion in vitro; in transplant recipients the secretory "
        "deficit was explained by low engrafted mass, not tacrolimus (modelled as secretion_mult 0.85-1.0)",
        source="Rickels et al. JCEM 2010 (PMID 20097708) (V); evidence of harm in vitro (Diabetes 65:451, 2016)",
        severity="moderate",
    ),
)

PLURIPOTENT_PRODUCT_RISKS: tuple[Risk, ...] = (
    Risk(
        name="teratoma / off-target growth",
        description="residual undifferentiated cells could form tumours; none seen in ViaCyte, zimislecel or "
        "CiPSC reports at ≤1-2 years, but long-term data do not exist",
        source="Ramzy 2021, Shapiro 2021 (no teratoma) (V); Reichman 2025; Wang 2024 Cell (V)",
        severity="life-threatening",
    ),
)

DEVICE_RISKS: tuple[Risk, ...] = (
    Risk(
        name="device surgery and foreign-body response",
        description="surgical adverse events and fibrotic capsule limiting graft survival",
        source="Shapiro AMJ et al. Cell Rep Med 2:100466, 2021: 27.9 % of AEs surgical (V); VC-01 report (V)",
        severity="moderate",
    ),
)


def msc_risks(route: str) -> tuple[Risk, ...]:
    """Risks of an MSC course given by ``route`` ("iv" or "pancreatic_artery")."""
    extra = ARTERIAL_PROCEDURE_RISKS if route == "pancreatic_artery" else ()
    return MSC_INFUSION_RISKS + extra + (HYPOGLYCAEMIA_RISK, UNREGULATED_CLINIC_WARNING)


def bmmnc_risks() -> tuple[Risk, ...]:
    """Risks of autologous bone-marrow mononuclear cells given into the pancreatic artery."""
    return BM_HARVEST_RISKS + ARTERIAL_PROCEDURE_RISKS + (HYPOGLYCAEMIA_RISK, UNREGULATED_CLINIC_WARNING)


def islet_risks(site: str, immunosuppression: bool, pluripotent: bool) -> tuple[Risk, ...]:
    """Risks of a β-cell replacement graft."""
    out: tuple[Risk, ...] = ()
    if site == "portal_vein":
        out += PORTAL_INFUSION_RISKS
    if site == "subcutaneous_device":
        out += DEVICE_RISKS
    if immunosuppression:
        out += IMMUNOSUPPRESSION_RISKS
    if pluripotent:
        out += PLURIPOTENT_PRODUCT_RISKS
    return out + (HYPOGLYCAEMIA_RISK, UNREGULATED_CLINIC_WARNING)
