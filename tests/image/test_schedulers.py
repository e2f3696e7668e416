"""Samplers by A1111 name: each builds from SDXL base's real scheduler config, with the options the
diffusers table gives, and steps a latent."""

from __future__ import annotations

import inspect

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from animstudio.errors import InvalidInputError  # noqa: E402
from animstudio.image.schedulers import FIXED_SIGMAS, SAMPLERS, SCHEDULERS, make_scheduler, split_name  # noqa: E402

# stabilityai/stable-diffusion-xl-base-1.0, scheduler/scheduler_config.json
SDXL_SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler",
    "_diffusers_version": "0.19.0.dev0",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "sample_max_value": 1.0,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "trained_betas": None,
    "use_karras_sigmas": False,
}

EXPECTED = {   # name -> class, and the options that make it that sampler
    "Euler": ("EulerDiscreteScheduler", {"use_karras_sigmas": False}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                                 "use_karras_sigmas": False}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    "DPM++ 2M SDE": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": False}),
    "DPM++ 2M SDE Karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++",
                                                            "use_karras_sigmas": True}),
    "DPM++ SDE Karras": ("DPMSolverSinglestepScheduler", {"use_karras_sigmas": True}),
    "DDIM": ("DDIMScheduler", {}),
    "UniPC": ("UniPCMultistepScheduler", {"use_karras_sigmas": False}),
    "LMS": ("LMSDiscreteScheduler", {"use_karras_sigmas": False}),
    "Heun": ("HeunDiscreteScheduler", {"use_karras_sigmas": False}),
    "DPM2": ("KDPM2DiscreteScheduler", {"use_karras_sigmas": False}),
    "LCM": ("LCMScheduler", {}),
    "DPM++ 2S a": ("DPMSolverSinglestepScheduler", {"solver_order": 2, "use_karras_sigmas": False}),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_named_sampler_is_the_diffusers_scheduler(name):
    scheduler = make_scheduler(name.upper(), SDXL_SCHEDULER)   # names match whatever their case
    cls_name, options = EXPECTED[name]
    assert type(scheduler).__name__ == cls_name
    assert {k: scheduler.config[k] for k in options} == options
    assert scheduler.config.beta_schedule == "scaled_linear" and scheduler.config.beta_end == 0.012


@pytest.mark.parametrize("name", SCHEDULERS)
def test_every_sampler_steps_a_latent(name):
    scheduler = make_scheduler(name, SDXL_SCHEDULER)
    scheduler.set_timesteps(4)
    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(1, 4, 8, 8, generator=generator) * scheduler.init_noise_sigma
    t = scheduler.timesteps[0]
    model_input = scheduler.scale_model_input(latent, t)
    noise = torch.randn(1, 4, 8, 8, generator=generator)
    takes_generator = "generator" in inspect.signature(scheduler.step).parameters   # the random ones do
    out = scheduler.step(noise, t, latent, **({"generator": generator} if takes_generator else {})).prev_sample
    assert model_input.shape == out.shape == (1, 4, 8, 8)
    assert torch.isfinite(out).all() and not torch.equal(out, latent)


def test_schedule_type_given_apart_is_the_same_as_in_the_name():
    a = make_scheduler("DPM++ 2M", SDXL_SCHEDULER, schedule="Karras")
    b = make_scheduler("DPM++ 2M Karras", SDXL_SCHEDULER)
    assert dict(a.config) == dict(b.config)
    assert make_scheduler("Euler", SDXL_SCHEDULER, schedule="SGM Uniform").config.timestep_spacing == "trailing"
    assert make_scheduler("Euler", SDXL_SCHEDULER, schedule="Automatic").config.use_karras_sigmas is False


def test_a_karras_model_config_goes_back_to_plain_sigmas():
    assert make_scheduler("DPM++ 2M", {**SDXL_SCHEDULER, "use_karras_sigmas": True}).config.use_karras_sigmas is False


def test_names_split_into_sampler_and_schedule():
    assert split_name("dpm++ 2m  karras") == ("DPM++ 2M", "Karras")
    assert split_name("DPM++ 2M SDE Karras") == ("DPM++ 2M SDE", "Karras")
    assert split_name("dpmpp_2m_sde") == ("DPM++ 2M SDE", None)       # ComfyUI's names
    assert split_name("euler_ancestral") == ("Euler a", None)
    assert split_name("Euler a") == ("Euler a", None)


def test_fixed_sigma_samplers_are_those_whose_class_takes_no_sigma_schedule():
    import diffusers

    takes = {n for n, (cls, _) in SAMPLERS.items()
             if "use_karras_sigmas" in inspect.signature(getattr(diffusers, cls).__init__).parameters}
    assert set(SAMPLERS) - takes == FIXED_SIGMAS


def test_unknown_names_are_one_line_listing_the_names():
    with pytest.raises(InvalidInputError) as err:
        make_scheduler("DPM fast", SDXL_SCHEDULER)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("unknown sampler 'DPM fast'; use one of DDIM, DEIS, DEIS Karras, DPM++ 2M,")
    with pytest.raises(InvalidInputError, match="the Euler a sampler has no Karras schedule"):
        make_scheduler("Euler a Karras", SDXL_SCHEDULER)
    with pytest.raises(InvalidInputError, match="unknown schedule type 'Polyexponential'"):
        make_scheduler("Euler", SDXL_SCHEDULER, schedule="Polyexponential")
