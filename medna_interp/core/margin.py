"""How far a model is above the position-specific linear baseline, and whether that is
enough for its explanations to add something.

A deep model at its linear baseline has learned position-specific base preferences, which
the baseline's weights already show; CAD and CWGA on it restate them. Only a model that
separates the classes clearly better than positions alone does has learned something
(spacings, pairs, context) worth explaining. ``evaluate``, the run report and the workflow
summary all judge by :func:`versus_baseline`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: AUC a model must gain over its linear baseline before its explanations are read as more
#: than position-specific preferences (the demo model's target)
EXPLAINING_MARGIN = 0.03

#: verdict -> what it means for the explanations
MEANINGS = {
    "adds": "its explanations can show what positions alone do not",
    "near": "its explanations mostly restate position-specific preferences",
    "below": "its explanations say little a linear model would not",
    "unknown": "no linear baseline was recorded for it",
}


@dataclass(frozen=True)
class Versus:
    """A model's AUC beside its linear baseline's on the same windows."""

    model_auc: float | None
    baseline_auc: float | None
    #: where both were measured ("validation", or a test set's name)
    on: str = "validation"

    @property
    def margin(self) -> float | None:
        """``model_auc - baseline_auc``, or None when either is missing."""
        if self.model_auc is None or self.baseline_auc is None:
            return None
        return self.model_auc - self.baseline_auc

    @property
    def verdict(self) -> str:
        """"adds" (margin >= :data:`EXPLAINING_MARGIN`), "near" (0 to that), "below" or "unknown"."""
        margin = self.margin
        if margin is None:
            return "unknown"
        # rounded so that a margin printed as 0.030 is not judged short of 0.03
        if round(margin, 6) >= EXPLAINING_MARGIN:
            return "adds"
        return "near" if margin >= 0 else "below"

    @property
    def below(self) -> bool:
        return self.verdict == "below"

    def sentence(self) -> str:
        """One line for a user deciding whether to read the explanations."""
        if self.verdict == "unknown":
            model = "not recorded" if self.model_auc is None else f"{self.model_auc:.3f}"
            return f"{self.on} AUC {model}; {MEANINGS['unknown']}"
        return (f"{self.on} AUC {self.model_auc:.3f} against {self.baseline_auc:.3f} for a position-specific "
                f"linear model (margin {self.margin:+.3f}; {EXPLAINING_MARGIN:.2f} needed): {MEANINGS[self.verdict]}")

    def to_dict(self) -> dict:
        return {"model_auc": self.model_auc, "baseline_auc": self.baseline_auc, "on": self.on,
                "margin": self.margin, "needed": EXPLAINING_MARGIN, "verdict": self.verdict,
                "below": self.below}
