"""Unit factors the models convert with, each the one its source uses.

Inputs arrive in the product's canonical SI units (mmol/L for lipids and glucose, µmol/L for
creatinine: see the indicator catalogue). Equations published in conventional units are fed
the conversion their authors used, so a worked example entered in SI units comes back exact:

* China-PAR (Yang 2016, Methods): mmol/L = mg/dL × 0.0259, so mg/dL = mmol/L ÷ 0.0259
  (× 38.61). The paper's own factor, not the molar one.
* PCE and Framingham: cholesterol mg/dL = mmol/L × 38.67 (molar mass of cholesterol
  386.65 g/mol; the factor of the NCEP/ACC tools and the indicator catalogue's 0.02586).
* CKD-EPI 2021 (Inker 2021): creatinine mg/dL = µmol/L ÷ 88.4.

The catalogue converts a laboratory's mg/dL creatinine with 88.42 and cholesterol with 0.02586;
the difference from the papers' factors is below 0.05 % and cannot move a category except at a
boundary to the fourth significant figure.
"""

from __future__ import annotations

CHINA_PAR_MMOL_PER_MGDL = 0.0259
CHOLESTEROL_MGDL_PER_MMOL = 38.67
CREATININE_UMOL_PER_MGDL = 88.4


def china_par_mgdl(mmol_l: float) -> float:
    return mmol_l / CHINA_PAR_MMOL_PER_MGDL


def cholesterol_mgdl(mmol_l: float) -> float:
    return mmol_l * CHOLESTEROL_MGDL_PER_MMOL


def creatinine_mgdl(umol_l: float) -> float:
    return umol_l / CREATININE_UMOL_PER_MGDL
