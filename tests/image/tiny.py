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


def refiner(folder: Path, base: Path) -> Path:
    """A tiny SDXL refiner for the tiny SDXL in ``base``: its second text encoder and VAE, a UNet of its
    own conditioned on that encoder alone and on an aesthetic score."""
    import torch
    from diffusers import StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline

    parts = StableDiffusionXLPipeline.from_pretrained(base)
    torch.manual_seed(5)
    width = parts.text_encoder_2.config.hidden_size
    model = unet(cross_attention_dim=width, seed=5)
    model = type(model).from_config({**model.config, "projection_class_embeddings_input_dim": 8 * 5 + width})
    pipe = StableDiffusionXLImg2ImgPipeline(vae=parts.vae, text_encoder=None, tokenizer=None,
                                            text_encoder_2=parts.text_encoder_2, tokenizer_2=parts.tokenizer_2,
                                            unet=model, scheduler=parts.scheduler, requires_aesthetics_score=True,
                                            force_zeros_for_empty_prompt=False)
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


def sdxl_for_file(folder: Path) -> Path:
    """A tiny SDXL pipeline whose text encoders a single file can tell apart (different widths, CLIP's
    49,408-token vocabulary), saved as a diffusers folder."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        sample_size=128)
    text = dict(bos_token_id=49406, eos_token_id=49407, pad_token_id=49407, intermediate_size=37,
                num_attention_heads=4, num_hidden_layers=3, vocab_size=49408, hidden_act="gelu")
    torch.manual_seed(1)
    encoder = CLIPTextModel(CLIPTextConfig(hidden_size=32, projection_dim=32, **text))
    torch.manual_seed(2)
    encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(hidden_size=48, projection_dim=48, **text))
    torch.manual_seed(0)
    from diffusers import UNet2DConditionModel

    model = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=8 * 6 + 48, cross_attention_dim=32 + 48)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="leading", steps_offset=1)
    tok = tokenizer(folder.parent / f"{folder.name}-tokenizer")
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=encoder, tokenizer=tok, text_encoder_2=encoder_2,
                                     tokenizer_2=tok, unet=model, scheduler=scheduler)
    pipe.save_pretrained(folder)
    return folder


# ---------------------------------------------------------------- diffusers folder -> one LDM file

_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
           "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}


def _ldm_unet(state: dict, layers: int) -> dict:
    """A diffusers UNet's weights under the original (LDM) names, as A1111 files hold them."""
    out = {}
    fixed = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
             "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
             "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2"}
    for key, value in state.items():
        parts = key.split(".")
        head = ".".join(parts[:2])
        if head in fixed or parts[0] in fixed:
            prefix = head if head in fixed else parts[0]
            out[fixed[prefix] + key[len(prefix):]] = value
            continue
        if parts[0] == "down_blocks":
            i, what, j, rest = int(parts[1]), parts[2], int(parts[3]), parts[4:]
            if what == "downsamplers":
                out[".".join([f"input_blocks.{(i + 1) * (layers + 1)}.0.op", *rest[1:]])] = value
                continue
            block = f"input_blocks.{i * (layers + 1) + j + 1}"
        elif parts[0] == "up_blocks":
            i, what, j, rest = int(parts[1]), parts[2], int(parts[3]), parts[4:]
            if what == "upsamplers":
                has_attention = any(k.startswith(f"up_blocks.{i}.attentions.") for k in state)
                out[".".join([f"output_blocks.{i * (layers + 1) + layers}.{2 if has_attention else 1}", *rest])] = value
                continue
            block = f"output_blocks.{i * (layers + 1) + j}"
        elif parts[0] == "mid_block":
            what, j, rest = parts[1], int(parts[2]), parts[3:]
            out[".".join([f"middle_block.{2 * j if what == 'resnets' else 1}",
                          *([_RESNET.get(rest[0], rest[0])] if what == "resnets" else [rest[0]]), *rest[1:]])] = value
            continue
        else:
            raise KeyError(key)
        if what == "resnets":
            out[".".join([block, "0", _RESNET.get(rest[0], rest[0]), *rest[1:]])] = value
        else:
            out[".".join([block, "1", *rest])] = value
    return out


def _ldm_vae(state: dict, blocks: int) -> dict:
    out = {}
    attention = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}
    for key, value in state.items():
        k = key.replace("conv_norm_out", "norm_out").replace("conv_shortcut", "nin_shortcut")
        for side in ("encoder", "decoder"):
            k = k.replace(f"{side}.mid_block.resnets.0", f"{side}.mid.block_1")
            k = k.replace(f"{side}.mid_block.resnets.1", f"{side}.mid.block_2")
            if f"{side}.mid_block.attentions.0." in k:
                name = k.split(f"{side}.mid_block.attentions.0.")[1].rsplit(".", 1)
                k = f"{side}.mid.attn_1.{attention[name[0]]}.{name[1]}"
                if value.ndim == 2:
                    value = value[:, :, None, None]   # LDM's attention projections are 1x1 convolutions
        parts = k.split(".")
        if parts[1] == "down_blocks":
            k = ".".join(["encoder.down", parts[2], "downsample" if parts[3] == "downsamplers" else "block",
                          *(parts[5:] if parts[3] == "downsamplers" else parts[4:])])
        elif parts[1] == "up_blocks":
            at = str(blocks - 1 - int(parts[2]))
            k = ".".join(["decoder.up", at, "upsample" if parts[3] == "upsamplers" else "block",
                          *(parts[5:] if parts[3] == "upsamplers" else parts[4:])])
        out[k] = value
    return out


def _open_clip(state: dict) -> dict:
    """A CLIPTextModelWithProjection's weights under OpenCLIP's names (SDXL's second encoder)."""
    import torch

    out, qkv = {}, {}
    names = {"embeddings.token_embedding.weight": "token_embedding.weight",
             "embeddings.position_embedding.weight": "positional_embedding",
             "final_layer_norm.weight": "ln_final.weight", "final_layer_norm.bias": "ln_final.bias"}
    for key, value in state.items():
        k = key.removeprefix("text_model.")
        if k == "text_projection.weight":
            out["text_projection"] = value.T.contiguous()
        elif k in names:
            out[names[k]] = value
        elif k.startswith("encoder.layers."):
            _, _, n, *rest = k.split(".")
            name = ".".join(rest)
            if name.startswith("self_attn.") and name.split(".")[1] in ("q_proj", "k_proj", "v_proj"):
                qkv.setdefault((n, name.rsplit(".", 1)[1]), {})[name.split(".")[1]] = value
                continue
            name = (name.replace("self_attn.out_proj", "attn.out_proj").replace("layer_norm1", "ln_1")
                    .replace("layer_norm2", "ln_2").replace("mlp.fc1", "mlp.c_fc").replace("mlp.fc2", "mlp.c_proj"))
            out[f"transformer.resblocks.{n}.{name}"] = value
    for (n, kind), parts in qkv.items():
        out[f"transformer.resblocks.{n}.attn.in_proj_{kind}"] = torch.cat([parts["q_proj"], parts["k_proj"],
                                                                          parts["v_proj"]])
    return out


def single_file(folder: Path, path: Path) -> Path:
    """The diffusers pipeline in ``folder`` written as one A1111-style .safetensors file."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline
    from safetensors.torch import save_file

    index = json.loads((folder / "model_index.json").read_text())
    refiner = index["_class_name"] == "StableDiffusionXLImg2ImgPipeline"
    xl = "text_encoder_2" in index
    cls = StableDiffusionXLImg2ImgPipeline if refiner else StableDiffusionXLPipeline if xl else StableDiffusionPipeline
    pipe = cls.from_pretrained(folder)
    state = {f"model.diffusion_model.{k}": v
             for k, v in _ldm_unet(pipe.unet.state_dict(), pipe.unet.config.layers_per_block).items()}
    state |= {f"first_stage_model.{k}": v
              for k, v in _ldm_vae(pipe.vae.state_dict(), len(pipe.vae.config.up_block_types)).items()}
    if pipe.text_encoder is not None:
        clip = {("text_model." + k if not k.startswith("text_model.") else k): v
                for k, v in pipe.text_encoder.state_dict().items()}
        prefix = "conditioner.embedders.0.transformer." if xl else "cond_stage_model.transformer."
        state |= {prefix + k: v for k, v in clip.items()}
    if xl:   # OpenCLIP's encoder: SDXL's second, the refiner's only one
        second = _open_clip(pipe.text_encoder_2.state_dict())
        state |= {f"conditioner.embedders.{0 if refiner else 1}.model.{k}": v for k, v in second.items()}
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path
