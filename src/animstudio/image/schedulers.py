"""Samplers by their A1111 names, built as diffusers schedulers from the model's own scheduler config.

    pipe.scheduler = make_scheduler("DPM++ 2M Karras", pipe.scheduler.config)
    pipe.scheduler = make_scheduler("DPM++ 2M", pipe.scheduler.config, schedule="Karras")   # A1111 1.9+
    SCHEDULERS          # ["DDIM", "DEIS", "DPM++ 2M", "DPM++ 2M Karras", ...]

The mapping follows the A1111 / k-diffusion table in the diffusers scheduler docs. Names are matched
case-insensitively; ComfyUI's sampler names (``dpmpp_2m``, ``euler_ancestral``...) work too. A schedule
type (Karras, Exponential, Beta, SGM Uniform) comes after the sampler's name, as in "DPM++ 2M Karras", or
as ``schedule``; "Automatic" keeps the sampler's own. Where diffusers has no exact match the nearest one
stands in: "DPM++ 2S a" is DPM-Solver single-step (not ancestral) and "DPM++ SDE" is DPM-Solver
single-step, as the diffusers table gives (the Brownian-tree SDE solver needs torchsde).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from animstudio.errors import InvalidInputError

# A1111 name -> (diffusers class, options set on top of the model's config)
SAMPLERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "Heun": ("HeunDiscreteScheduler", {}),
    "LMS": ("LMSDiscreteScheduler", {}),
    "DPM2": ("KDPM2DiscreteScheduler", {}),
    "DPM2 a": ("KDPM2AncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DPM++ 2M SDE": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "DPM++ 3M SDE": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}),
    "DPM++ SDE": ("DPMSolverSinglestepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DPM++ 2S a": ("DPMSolverSinglestepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DDIM": ("DDIMScheduler", {}),
    "PLMS": ("PNDMScheduler", {"skip_prk_steps": True}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "DEIS": ("DEISMultistepScheduler", {"algorithm_type": "deis"}),
    "LCM": ("LCMScheduler", {}),
}

# A1111 schedule type -> the options that give it (Automatic: the sampler's own)
SCHEDULES: dict[str, dict[str, Any]] = {
    "Automatic": {},
    "Karras": {"use_karras_sigmas": True},
    "Exponential": {"use_exponential_sigmas": True},
    "Beta": {"use_beta_sigmas": True},
    "SGM Uniform": {"timestep_spacing": "trailing"},
}

SIGMA_FLAGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")
FIXED_SIGMAS = {"Euler a", "DDIM", "PLMS", "LCM"}   # their diffusers classes take no sigma schedule

# ComfyUI's sampler names, for metadata that ComfyUI wrote
COMFY = {"euler": "Euler", "euler_ancestral": "Euler a", "heun": "Heun", "lms": "LMS", "dpm_2": "DPM2",
         "dpm_2_ancestral": "DPM2 a", "dpmpp_2m": "DPM++ 2M", "dpmpp_2m_sde": "DPM++ 2M SDE",
         "dpmpp_3m_sde": "DPM++ 3M SDE", "dpmpp_sde": "DPM++ SDE", "dpmpp_2s_ancestral": "DPM++ 2S a",
         "ddim": "DDIM", "uni_pc": "UniPC", "deis": "DEIS", "lcm": "LCM"}


def _accepts(cls_name: str) -> set[str]:
    """The config options a diffusers scheduler class takes."""
    import inspect

    import diffusers

    return set(inspect.signature(getattr(diffusers, cls_name).__init__).parameters)


def split_name(name: str, schedule: str | None = None) -> tuple[str, str | None]:
    """The sampler's A1111 name and its schedule type, from a name such as "dpm++ 2m karras".

        split_name("dpm++ 2m karras")     # ("DPM++ 2M", "Karras")
    """
    wanted = " ".join(name.replace("_", " ").split()).lower()
    samplers = {k.lower(): k for k in SAMPLERS} | {k.replace("_", " "): v for k, v in COMFY.items()}
    schedules = {k.lower(): k for k in SCHEDULES} | {"sgm_uniform": "SGM Uniform", "simple": "SGM Uniform",
                                                    "normal": "Automatic"}
    found_schedule = None
    if schedule is not None:
        found_schedule = schedules.get(" ".join(schedule.split()).lower())
        if found_schedule is None:
            raise InvalidInputError(f"unknown schedule type {schedule!r}; use one of {', '.join(SCHEDULES)}")
    if wanted in samplers:
        return samplers[wanted], found_schedule
    for key, value in schedules.items():
        stem = wanted.removesuffix(" " + key)
        if stem != wanted and stem in samplers and found_schedule in (None, value):
            return samplers[stem], value
    raise InvalidInputError(f"unknown sampler {name!r}; use one of {', '.join(SCHEDULERS)}")


def make_scheduler(name: str, config: Mapping[str, Any], schedule: str | None = None) -> Any:
    """A diffusers scheduler for the A1111 sampler ``name``, built ``from_config(config)`` (the loaded
    pipeline's ``scheduler.config``) with the sampler's and the schedule type's options; a sigma
    schedule the model's config set (Karras...) is cleared unless asked for."""
    import diffusers

    sampler, schedule_type = split_name(name, schedule)
    cls_name, options = SAMPLERS[sampler]
    accepted = _accepts(cls_name)
    wanted = SCHEDULES[schedule_type or "Automatic"]
    missing = [k for k in wanted if k not in accepted]
    if missing:
        able = [s for s in SAMPLERS if set(wanted) <= _accepts(SAMPLERS[s][0])]
        raise InvalidInputError(f"the {sampler} sampler has no {schedule_type} schedule; use it with Automatic, or "
                                f"pick one of {', '.join(able)}")
    base = {k: v for k, v in dict(config).items() if k in accepted}   # another class's options would be warned of
    settings = {k: False for k in SIGMA_FLAGS if k in accepted} | options | wanted
    return getattr(diffusers, cls_name).from_config(base, **settings)


SCHEDULERS: list[str] = sorted([*SAMPLERS, *(f"{s} Karras" for s in SAMPLERS if s not in FIXED_SIGMAS)], key=str.lower)
