"""Synthetic readmission encounters in the layout of the public Diabetes 130-US file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from services.core.errors import InputError
from services.training.drift_scenarios import SCENARIOS, DriftScenario
from services.training.readmission_schema import (
    AGE_BRACKETS,
    DIAGNOSIS_COLUMNS,
    MEDICATION_COLUMNS,
    MISSING,
    RAW_COLUMNS,
    TARGET_COLUMN,
    WEIGHT_BRACKETS,
)

DEFAULT_ROWS = 100_000  # the public file has 101,766 encounters of 71,518 patients

# ICD-9 codes per clinical group, most frequent first (written as the file does: no zero padding).
_DIAG_CODES: dict[str, list[str]] = {
    "circulatory": "428 414 410 427 434 435 433 440 402 403 424 401 415 412 411 425 429 426 "
    "396 453 459 785 436 441 443 416".split(),
    "respiratory": "486 491 493 518 496 492 511 466 480 482 507 786 515 487 490".split(),
    "digestive": "577 578 562 574 560 535 530 558 569 571 575 787 536 550 553 576".split(),
    "diabetes": "250.8 250.6 250.02 250.13 250.01 250 250.11 250.12 250.82 250.03 250.4 250.81 "
    "250.83 250.1 250.2 250.22 250.41 250.42 250.43 250.7 250.9 250.92".split(),
    "injury": "996 820 998 824 850 997 812 805 808 823 959 965 972 977 969 995".split(),
    "musculoskeletal": "715 722 724 730 728 733 719 710 721 714 711 737 738".split(),
    "genitourinary": "599 584 590 585 586 593 618 620 788 591 592 596 600 625".split(),
    "neoplasms": "162 174 153 185 157 188 197 198 203 204 211 218 225 189 154 182 202 239".split(),
    "other": "276 780 682 38 8 707 789 276 277 278 244 272 285 287 295 296 298 303 305 311 300 "
    "290 294 331 340 345 348 357 359 642 644 648 799 784 70 112 135 681 686".split(),
    "v_code": "V57 V58 V45 V43 V15 V27 V42 V12 V49 V10 V63 V66 V70 V54 V53".split(),
    "e_code": "E878 E885 E888 E849 E932 E942 E947 E950 E935 E909 E880 E884".split(),
}
_DIAG_GROUPS = list(_DIAG_CODES)
# Shares of each group per diagnosis slot (close to the public file's).
_DIAG_SHARES = {
    "diag_1": [0.30, 0.14, 0.09, 0.086, 0.069, 0.049, 0.05, 0.034, 0.166, 0.016, 0.0],
    "diag_2": [0.31, 0.10, 0.04, 0.125, 0.025, 0.017, 0.08, 0.025, 0.25, 0.02, 0.008],
    "diag_3": [0.30, 0.07, 0.04, 0.17, 0.02, 0.02, 0.065, 0.018, 0.245, 0.04, 0.012],
}
_DIAG_MISSING = {"diag_1": 0.0002, "diag_2": 0.0035, "diag_3": 0.014}
_DIAG_RISK = {  # log-odds added by the primary diagnosis group
    "circulatory": 0.05,
    "respiratory": 0.0,
    "digestive": 0.05,
    "diabetes": 0.2,
    "injury": -0.1,
    "musculoskeletal": -0.35,
    "genitourinary": 0.05,
    "neoplasms": 0.3,
    "other": 0.0,
    "v_code": 0.1,
    "e_code": 0.0,
}

_SPECIALTIES = (
    "InternalMedicine Emergency/Trauma Family/GeneralPractice Cardiology Surgery-General "
    "Nephrology Orthopedics Orthopedics-Reconstructive Radiologist Pulmonology Psychiatry "
    "Urology ObstetricsandGynecology Surgery-Cardiovascular/Thoracic Gastroenterology "
    "Surgery-Vascular Surgery-Neuro PhysicalMedicineandRehabilitation Oncology Pediatrics "
    "Hematology/Oncology Neurology Pediatrics-Endocrinology Otolaryngology Endocrinology "
    "Surgery-Thoracic Psychology Podiatry Surgery-Cardiovascular Pediatrics-CriticalCare "
    "Hematology Gynecology Hospitalist Radiology InfectiousDiseases Osteopath Rheumatology "
    "Ophthalmology Surgery-Plastic Anesthesiology Dermatology"
).split()
_PAYERS = "MC HM SP BC MD CP UN CM OG PO DM CH WC OT MP SI FR".split()
_PAYER_SHARES = [
    0.32, 0.062, 0.049, 0.046, 0.035, 0.025, 0.024, 0.019, 0.01,
    0.006, 0.005, 0.0015, 0.0013, 0.0009, 0.0008, 0.0005, 0.0001,
]  # fmt: skip
# Dose-change shares per medication: (No, Steady, Up, Down); the rest are almost never used.
_MED_SHARES = {
    "metformin": (0.80, 0.18, 0.011, 0.009),
    "repaglinide": (0.985, 0.0136, 0.0011, 0.0003),
    "nateglinide": (0.993, 0.0066, 0.0002, 0.0002),
    "chlorpropamide": (0.9992, 0.0008, 0.0, 0.0),
    "glimepiride": (0.949, 0.046, 0.0032, 0.0018),
    "acetohexamide": (0.99999, 0.00001, 0.0, 0.0),
    "glipizide": (0.875, 0.112, 0.0076, 0.0054),
    "glyburide": (0.895, 0.091, 0.0081, 0.0059),
    "tolbutamide": (0.9998, 0.0002, 0.0, 0.0),
    "pioglitazone": (0.928, 0.069, 0.0023, 0.0007),
    "rosiglitazone": (0.937, 0.06, 0.0017, 0.0013),
    "acarbose": (0.997, 0.0029, 0.0001, 0.0),
    "miglitol": (0.9996, 0.0003, 0.00005, 0.00005),
    "troglitazone": (0.99997, 0.00003, 0.0, 0.0),
    "tolazamide": (0.9996, 0.0004, 0.0, 0.0),
    "examide": (1.0, 0.0, 0.0, 0.0),
    "citoglipton": (1.0, 0.0, 0.0, 0.0),
    "insulin": (0.466, 0.303, 0.111, 0.12),
    "glyburide-metformin": (0.993, 0.0068, 0.0001, 0.0001),
    "glipizide-metformin": (0.9999, 0.0001, 0.0, 0.0),
    "glimepiride-pioglitazone": (0.99999, 0.00001, 0.0, 0.0),
    "metformin-rosiglitazone": (0.99998, 0.00002, 0.0, 0.0),
    "metformin-pioglitazone": (0.99999, 0.00001, 0.0, 0.0),
}
_MED_VALUES = np.array(["No", "Steady", "Up", "Down"], dtype=object)
_DISCHARGE = [1, 3, 6, 18, 2, 22, 11, 5, 25, 4, 7, 23, 13, 14, 28, 8, 15, 24, 9, 17]
_DISCHARGE_SHARES = [
    0.592, 0.137, 0.127, 0.036, 0.021, 0.02, 0.016, 0.012, 0.0097, 0.008,
    0.006, 0.004, 0.004, 0.0037, 0.0014, 0.001, 0.0006, 0.0005, 0.0002, 0.0001,
]  # fmt: skip
_DISCHARGE_RISK = {3: 0.3, 6: 0.2, 22: 0.6, 5: 0.45, 2: 0.3, 28: 0.8, 15: 0.5, 4: 0.2}
_NEVER_READMITTED = (11, 13, 14, 19, 20, 21)  # expired or hospice
_SOURCES = [7, 1, 17, 4, 6, 2, 5, 3, 20, 9, 8]
_SOURCE_SHARES = [0.565, 0.29, 0.067, 0.031, 0.022, 0.011, 0.0085, 0.002, 0.0016, 0.0012, 0.0002]
_AGE_SHARES = [0.0016, 0.007, 0.016, 0.037, 0.095, 0.17, 0.221, 0.256, 0.169, 0.0274]
_READMIT_30 = 0.112  # share of `<30` in the public file
_READMIT_LATER = 0.349  # share of `>30`


# long-function: after the stage calls, a third of it is the 50-column literal in the public
# file's order, kept in one place so the layout can be read against RAW_COLUMNS.
def generate_readmission(
    n_rows: int = DEFAULT_ROWS,
    seed: int = 42,
    *,
    drift_start: float | None = None,
    drift_strength: float = 0.0,
    scenario: DriftScenario | None = None,
) -> pd.DataFrame:
    """Encounters in the layout of `diabetic_data.csv`, ordered by time (= encounter_id).

    The same arguments always give the same frame. `drift_start` (a share of the time span)
    and `drift_strength` are a simple covariate-shift hook for drift tests: after the start,
    prior-utilisation rates and the A1C testing rate ramp up by up to `drift_strength` (1.0 =
    double); the outcome keeps the same dependence on the features. `scenario` adds the
    documented gradual and abrupt changes of a `DriftScenario` (see drift_scenarios.py); it
    draws no extra random numbers, so the features before its first change are unchanged.
    """
    if n_rows < 10:
        raise InputError("n_rows must be at least 10")
    rng = np.random.default_rng(seed)
    patient, visit, t = _encounters(rng, n_rows)
    ramp = np.zeros(n_rows)
    if drift_start is not None and drift_strength:
        ramp = drift_strength * np.clip((t - drift_start) / max(1.0 - drift_start, 1e-9), 0, 1)
    scenario = scenario or SCENARIOS["none"]
    # Each stage draws from `rng` in turn, so their order is part of the seed's output.
    people = _patients(rng, patient, t, scenario)
    stay = _admission(rng, people)
    diag_group, diag_code = _diagnosis_columns(rng, t, scenario)
    visits = _prior_visits(rng, seed, visit, t, people.frailty, ramp, scenario)
    stay |= _hospital_stay(rng, people, diag_group)
    treatment = _treatment(rng, n_rows, ramp)
    readmitted = _outcome(
        rng, people, stay, visits, diag_group, treatment, t >= scenario.concept_change_at
    )
    patient_nbr = 135 + np.cumsum(rng.integers(1, 2600, people.n_patients))
    patient_nbr = rng.permutation(patient_nbr)[patient]
    frame = pd.DataFrame(
        {
            "encounter_id": 12522 + np.cumsum(rng.integers(40, 8000, n_rows)),
            "patient_nbr": patient_nbr.astype(np.int64),
            "race": people.race,
            "gender": people.gender,
            "age": np.asarray(AGE_BRACKETS, dtype=object)[people.age_idx],
            "weight": people.weight,
            "admission_type_id": stay["admission_type_id"],
            "discharge_disposition_id": stay["discharge_disposition_id"],
            "admission_source_id": stay["admission_source_id"],
            "time_in_hospital": stay["time_in_hospital"].astype(np.int64),
            "payer_code": people.payer,
            "medical_specialty": stay["medical_specialty"],
            "num_lab_procedures": stay["num_lab_procedures"],
            "num_procedures": stay["num_procedures"].astype(np.int64),
            "num_medications": stay["num_medications"],
            "number_outpatient": visits["outpatient"].astype(np.int64),
            "number_emergency": visits["emergency"].astype(np.int64),
            "number_inpatient": visits["inpatient"].astype(np.int64),
            **diag_code,
            "number_diagnoses": stay["number_diagnoses"],
            "max_glu_serum": treatment["max_glu_serum"],
            "A1Cresult": treatment["A1Cresult"],
            **treatment["meds"],
            "change": treatment["change"],
            "diabetesMed": treatment["diabetesMed"],
            TARGET_COLUMN: readmitted,
        }
    )
    return frame[RAW_COLUMNS]


@dataclass(frozen=True)
class _People:
    """Per-encounter traits of the patient: drawn per patient, repeated on each visit."""

    n_patients: int
    frailty: np.ndarray  # latent: the model sees it only through its traces
    race: np.ndarray
    gender: np.ndarray
    age_idx: np.ndarray  # age bracket index, 0..9
    payer: np.ndarray
    weight: np.ndarray


def _patients(
    rng: np.random.Generator, patient: np.ndarray, t: np.ndarray, scenario: DriftScenario
) -> _People:
    n = len(patient)
    n_patients = int(patient.max()) + 1
    older = scenario.age_years * scenario.ramp(t, scenario.age_start)
    frailty = rng.normal(size=n_patients)[patient]
    race = _pick(rng, ["Caucasian", "AfricanAmerican", "Hispanic", "Other", "Asian"],
                 [0.765, 0.193, 0.02, 0.015, 0.0065], n_patients)[patient]  # fmt: skip
    race[rng.random(n) < 0.022] = MISSING
    gender = _pick(rng, ["Female", "Male", "Unknown/Invalid"], [0.538, 0.46197, 0.00003],
                   n_patients)[patient]  # fmt: skip
    age0 = rng.choice(10, size=n_patients, p=_AGE_SHARES) * 10 + rng.random(n_patients) * 10
    first_seen = np.full(n_patients, np.inf)
    np.minimum.at(first_seen, patient, t)
    # Ages are drawn for the first visit; the file spans ten years, so repeat patients age.
    age_years = np.clip(age0[patient] + 10 * (t - first_seen[patient]) + older, 0, 99.9)
    age_idx = (age_years // 10).astype(int)
    payer = _pick(rng, _PAYERS, _PAYER_SHARES, n_patients)[patient]
    payer[rng.random(n) < 0.40] = MISSING
    weight = _pick(rng, WEIGHT_BRACKETS, [5, 10, 90, 130, 60, 14, 3, 1, 0.3], n)
    weight[rng.random(n) < 0.969] = MISSING
    return _People(n_patients, frailty, race, gender, age_idx, payer, weight)


def _admission(rng: np.random.Generator, people: _People) -> dict[str, np.ndarray]:
    """How the encounter started and ended: source, type, discharge, specialty."""
    n = len(people.frailty)
    source = _pick(rng, _SOURCES, _SOURCE_SHARES, n).astype(np.int64)
    adm_type = np.where(
        source == 7,
        _pick(rng, [1, 2, 6, 5, 3], [0.78, 0.14, 0.05, 0.025, 0.005], n),
        _pick(rng, [3, 1, 2, 5, 6, 8, 7, 4], [0.45, 0.25, 0.22, 0.05, 0.025, 0.004, 0.0005,
                                               0.0005], n),
    ).astype(np.int64)  # fmt: skip
    old_or_frail = (people.age_idx >= 8) | (people.frailty > 1.0)
    discharge = np.where(
        old_or_frail & (rng.random(n) < 0.35),
        _pick(rng, [3, 6, 22, 5, 2], [0.5, 0.35, 0.07, 0.04, 0.04], n),
        _pick(rng, _DISCHARGE, _DISCHARGE_SHARES, n),
    ).astype(np.int64)
    specialty = _pick(rng, _SPECIALTIES, 0.72 ** np.arange(len(_SPECIALTIES)), n)
    specialty[rng.random(n) < 0.49] = MISSING
    return {
        "admission_source_id": source,
        "admission_type_id": adm_type,
        "discharge_disposition_id": discharge,
        "medical_specialty": specialty,
    }


def _diagnosis_columns(
    rng: np.random.Generator, t: np.ndarray, scenario: DriftScenario
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(clinical group, ICD-9 code) per diagnosis column; the scenario's coding change applied."""
    diag_group: dict[str, np.ndarray] = {}
    diag_code: dict[str, np.ndarray] = {}
    for col in DIAGNOSIS_COLUMNS:
        groups, codes = _diagnoses(rng, col, len(t))
        diag_group[col], diag_code[col] = groups, codes
    recoded = (t >= scenario.coding_change_at) & ~np.char.count(
        diag_code["diag_3"].astype(str), "."
    ).astype(bool)
    recoded &= diag_code["diag_3"] != MISSING
    diag_code["diag_3"] = np.where(
        recoded, np.char.add(diag_code["diag_3"].astype(str), ".9"), diag_code["diag_3"]
    ).astype(object)
    return diag_group, diag_code


def _prior_visits(
    rng: np.random.Generator,
    seed: int,
    visit: np.ndarray,
    t: np.ndarray,
    frailty: np.ndarray,
    ramp: np.ndarray,
    scenario: DriftScenario,
) -> dict[str, np.ndarray]:
    """Inpatient, emergency and outpatient visits in the year before the encounter."""
    rate = 1.0 + ramp
    # A scenario's extra visits come from their own stream: Poisson draws consume a varying
    # amount of randomness, so changing the main stream's rates would reshuffle every row.
    extra_rate = scenario.utilisation_increase * scenario.ramp(t, scenario.utilisation_start)
    extra_rng = np.random.default_rng([seed, 1])
    visits = {}
    for column, base, cap in (
        ("inpatient", np.exp(-1.05 + 0.65 * frailty + 0.12 * np.minimum(visit, 5)), 21),
        ("emergency", np.exp(-2.2 + 0.55 * frailty), 76),
        ("outpatient", np.exp(-1.5 + 0.35 * frailty), 42),
    ):
        count = rng.poisson(rate * base)
        if extra_rate.any():
            count = count + extra_rng.poisson(extra_rate * base)
        visits[column] = np.minimum(count, cap)
    return visits


def _hospital_stay(
    rng: np.random.Generator, people: _People, diag_group: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Length of stay and what happened during it: labs, procedures, medications, diagnoses."""
    n = len(people.frailty)
    circulatory = diag_group["diag_1"] == "circulatory"
    time_in_hospital = np.clip(
        1
        + rng.negative_binomial(
            3, 3 / (3 + np.exp(0.95 + 0.15 * people.frailty + 0.1 * circulatory))
        ),
        1,
        14,
    )
    num_lab = np.clip(rng.normal(32 + 2.6 * time_in_hospital, 18), 1, 132).astype(np.int64)
    surgical = np.isin(diag_group["diag_1"], ["circulatory", "injury", "musculoskeletal"])
    num_procedures = np.minimum(rng.poisson(0.9 + 1.0 * surgical), 6)
    num_medications = np.clip(
        rng.poisson(6 + 2.1 * time_in_hospital + 1.5 * num_procedures), 1, 81
    ).astype(np.int64)
    number_diagnoses = np.where(
        rng.random(n) < 0.5 + 0.04 * (people.age_idx - 6),
        9,
        np.clip(3 + rng.binomial(8, 0.5, n) + (people.age_idx >= 6), 1, 16),
    ).astype(np.int64)
    return {
        "time_in_hospital": time_in_hospital,
        "num_lab_procedures": num_lab,
        "num_procedures": num_procedures,
        "num_medications": num_medications,
        "number_diagnoses": number_diagnoses,
    }


def _treatment(rng: np.random.Generator, n: int, ramp: np.ndarray) -> dict[str, Any]:
    """Glucose and A1C tests, the 23 medication columns, `change` and `diabetesMed`."""
    max_glu = _pick(rng, ["None", "Norm", ">200", ">300"], [0.947, 0.025, 0.015, 0.013], n)
    a1c_tested = rng.random(n) < 0.17 * (1 + ramp)
    a1c = np.where(a1c_tested, _pick(rng, ["Norm", ">7", ">8"], [0.29, 0.22, 0.49], n), "None")
    meds = {m: _pick(rng, _MED_VALUES, _MED_SHARES[m], n) for m in MEDICATION_COLUMNS}
    # Poor control makes insulin dose changes more likely.
    high = (a1c == ">8") & (rng.random(n) < 0.3)
    meds["insulin"] = np.where(high, _pick(rng, ["Up", "Down"], [0.6, 0.4], n), meds["insulin"])
    med_matrix = np.stack([meds[m] for m in MEDICATION_COLUMNS])
    any_dose_change = np.isin(med_matrix, ["Up", "Down"]).any(axis=0)
    any_steady = (med_matrix == "Steady").any(axis=0)
    change = np.where(any_dose_change | (any_steady & (rng.random(n) < 0.2)), "Ch", "No")
    diabetes_med = np.where((med_matrix != "No").any(axis=0), "Yes", "No")
    return {
        "max_glu_serum": max_glu,
        "A1Cresult": a1c,
        "meds": meds,
        "change": change,
        "diabetesMed": diabetes_med,
    }


def _outcome(
    rng: np.random.Generator,
    people: _People,
    stay: dict[str, np.ndarray],
    visits: dict[str, np.ndarray],
    diag_group: dict[str, np.ndarray],
    treatment: dict[str, Any],
    new_regime: np.ndarray,
) -> np.ndarray:
    """`readmitted` (<30, >30, NO) from a logistic model of the features, with concept drift."""
    meds = treatment["meds"]
    discharge = stay["discharge_disposition_id"]
    logit = (
        0.6 * people.frailty
        + 0.45 * np.minimum(visits["inpatient"], 6)
        + 0.2 * np.minimum(visits["emergency"], 4)
        + 0.04 * np.minimum(visits["outpatient"], 5)
        + 0.05 * (stay["time_in_hospital"] - 4)
        + 0.012 * (stay["num_medications"] - 16)
        + 0.05 * (stay["number_diagnoses"] - 7)
        + 0.07 * (people.age_idx - 6)
        + 1.5 * _lookup(discharge, _DISCHARGE_RISK)
        + 1.5 * _lookup(diag_group["diag_1"], _DIAG_RISK)
        + 0.12 * (diag_group["diag_2"] == "diabetes")
        + 0.15 * (meds["insulin"] == "Down")
        + 0.1 * (meds["insulin"] == "Up")
        + 0.1 * (treatment["diabetesMed"] == "Yes")
        - 0.1 * (meds["metformin"] == "Steady")
        + 0.05 * (people.payer == "MC")
    )
    # Concept drift: the same features, a different relationship with the outcome.
    if new_regime.any():
        shift = (
            -0.4 * np.minimum(visits["inpatient"], 6)
            - 0.45 * people.frailty
            + 1.2 * (treatment["A1Cresult"] == ">8")
            + 0.9 * (meds["insulin"] == "Up")
            + 0.25 * (stay["time_in_hospital"] - 4)
        )
        # Centred, so the readmission rate stays put and only who is readmitted changes.
        logit = logit + new_regime * (shift - shift[new_regime].mean())
    n = len(logit)
    never = np.isin(discharge, _NEVER_READMITTED)
    p30 = _sigmoid(logit + _intercept(logit, _READMIT_30 / (1 - never.mean())))
    u = rng.random(n)
    early = (u < p30) & ~never
    later_logit = 0.6 * logit
    p_later = _sigmoid(later_logit + _intercept(later_logit, _READMIT_LATER / (1 - _READMIT_30)))
    later = ~early & ~never & (rng.random(n) < p_later)
    return np.where(early, "<30", np.where(later, ">30", "NO"))


def _encounters(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(patient index, visit number within patient, time in [0, 1)) per encounter, time order."""
    counts = rng.geometric(0.7, size=int(n / 1.3) + 16)
    ends = np.cumsum(counts)
    n_patients = int(np.searchsorted(ends, n)) + 1
    counts = counts[:n_patients].copy()
    counts[-1] -= ends[n_patients - 1] - n
    patient = np.repeat(np.arange(n_patients), counts)
    t = rng.random(n)
    order = np.lexsort((t, patient))  # each patient's visits in time order
    patient, t = patient[order], t[order]
    first = np.r_[0, np.cumsum(counts)[:-1]]
    visit = np.arange(n) - np.repeat(first, counts)
    by_time = np.argsort(t, kind="stable")
    return patient[by_time], visit[by_time], t[by_time]


def _diagnoses(rng: np.random.Generator, col: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    groups = _pick(rng, _DIAG_GROUPS, _DIAG_SHARES[col], n)
    codes = np.empty(n, dtype=object)
    for group, pool in _DIAG_CODES.items():
        mask = groups == group
        if mask.any():
            codes[mask] = _pick(rng, pool, 0.8 ** np.arange(len(pool)), int(mask.sum()))
    missing = rng.random(n) < _DIAG_MISSING[col]
    codes[missing] = MISSING
    groups[missing] = "missing"
    return groups, codes


def _pick(rng: np.random.Generator, values: Sequence, weights: Sequence[float], n: int):
    p = np.asarray(weights, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p / p.sum())]


def _lookup(values: np.ndarray, table: dict) -> np.ndarray:
    return pd.Series(values).map(table).fillna(0.0).to_numpy(dtype=float)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _intercept(logit: np.ndarray, share: float) -> float:
    """The shift that makes the mean probability equal `share` (bisection, deterministic)."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _sigmoid(logit + mid).mean() < share else (lo, mid)
    return (lo + hi) / 2
