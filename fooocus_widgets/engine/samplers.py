"""The panel's sampler names mapped to diffusers schedulers, with the noise-schedule option.

"karras" turns on Karras sigmas where the scheduler has them; "sgm_uniform" spaces timesteps
evenly from the end ("trailing"), as the few-step LoRAs expect. A scheduler without Karras
sigmas (DDIM, LCM, Euler a) runs its default spacing, and the parameters say so.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

__all__ = ["SAMPLER_SCHEDULERS", "make_scheduler"]

#: sampler name -> (diffusers scheduler class name, fixed options)
SAMPLER_SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DPM++ 2M SDE": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "DPM++ SDE": ("DPMSolverSDEScheduler", {}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "DDIM": ("DDIMScheduler", {}),
    "LCM": ("LCMScheduler", {}),
}


def make_scheduler(base_config: Mapping[str, Any], sampler: str, schedule: str) -> tuple[Any, str]:
    """A fresh scheduler for `sampler` built from the model's own scheduler config.

    Returns the scheduler and the schedule actually used ("karras" falls back to "normal" where
    the scheduler has no Karras sigmas).
    """
    import diffusers

    class_name, options = SAMPLER_SCHEDULERS[sampler]
    cls = getattr(diffusers, class_name)
    overrides: dict[str, Any] = dict(options)
    accepted = inspect.signature(cls.__init__).parameters
    used = schedule
    if schedule == "karras":
        if "use_karras_sigmas" in accepted:
            overrides["use_karras_sigmas"] = True
        else:
            used = "normal"
    elif schedule == "sgm_uniform":
        overrides["timestep_spacing"] = "trailing"
    if "use_karras_sigmas" in accepted and schedule != "karras":
        overrides["use_karras_sigmas"] = False
    # keep only options this scheduler has (diffusers warns about the others)
    config = {k: v for k, v in base_config.items() if k in accepted or k.startswith("_")}
    return cls.from_config(config, **overrides), used
