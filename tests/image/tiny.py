"""Tiny SDXL parts with random weights, built from configs the way diffusers tests its pipelines:
the real classes and code paths at a size that runs in a second on CPU. Saved as diffusers folders
(and LoRA / ControlNet files) for the studio to load like a user's checkpoints."""

from __future__ import annotations

import json
from pathlib import Path


def tokenizer(folder: Path):
    """A CLIP tokenizer over single characters (no merges): enough words for prompts."""
    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz0123456789,.:()[]<>!?'-":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def unet(cross_attention_dim: int = 64, seed: int = 0):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    return UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=8 * 6 + cross_attention_dim // 2, cross_attention_dim=cross_attention_dim)


def sdxl(folder: Path) -> Path:
    """A tiny SDXL pipeline saved as a diffusers folder."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        sample_size=128)
    text = dict(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
                num_attention_heads=4, num_hidden_layers=5, vocab_size=200, hidden_act="gelu", projection_dim=32)
    torch.manual_seed(1)
    encoder = CLIPTextModel(CLIPTextConfig(**text))
    torch.manual_seed(2)
    encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**text))
    tok = tokenizer(folder.parent / f"{folder.name}-tokenizer")
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="leading", steps_offset=1)
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=encoder, tokenizer=tok, text_encoder_2=encoder_2,
                                     tokenizer_2=tok, unet=unet(), scheduler=scheduler)
    pipe.save_pretrained(folder)
    return folder


def lora(path: Path, cross_attention_dim: int = 64, seed: int = 3) -> Path:
    """A LoRA for the tiny SDXL UNet (random, non-zero weights, so it changes the picture)."""
    import torch
    from diffusers import StableDiffusionXLPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    model = unet(cross_attention_dim)
    torch.manual_seed(seed)
    model.add_adapter(LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                                 target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(model))
    path.parent.mkdir(parents=True, exist_ok=True)
    StableDiffusionXLPipeline.save_lora_weights(str(path.parent), unet_lora_layers=layers, weight_name=path.name)
    return path


def controlnet(folder: Path) -> Path:
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(4)
    model = ControlNetModel.from_unet(unet(), conditioning_embedding_out_channels=(8, 16))   # the tiny VAE halves sizes
    with torch.no_grad():   # a trained ControlNet's zero convolutions are no longer zero: neither are these
        for conv in [*model.controlnet_down_blocks, model.controlnet_mid_block]:
            conv.weight.normal_(0, 0.5)
    model.save_pretrained(folder)
    return folder


def sd15(folder: Path) -> Path:
    """A tiny SD 1.5 pipeline (one text encoder, no added conditioning) saved as a diffusers folder."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    model = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4,
                                 out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                 up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2)
    torch.manual_seed(1)
    encoder = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
                                           intermediate_size=37, num_attention_heads=4, num_hidden_layers=5,
                                           vocab_size=200))
    scheduler = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                              steps_offset=1)
    tok = tokenizer(folder.parent / f"{folder.name}-tok")
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=encoder, tokenizer=tok, unet=model, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder
