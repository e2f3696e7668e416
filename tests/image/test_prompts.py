"""A1111 prompt weighting and long prompts on tiny random CLIP text models (the real transformers
classes, built from configs) and a CLIP tokenizer over single characters: the weights A1111 gives,
the embeddings diffusers makes itself for a plain short prompt, and windows of 75 tokens."""

from __future__ import annotations

import pytest
import tiny

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from animstudio.image.prompts import encode, extract_loras, parse_weights, windows  # noqa: E402

WEIGHTS = {   # A1111's own examples of its syntax, and the weights it gives
    "normal text": [("normal text", 1.0)],
    "an (important) word": [("an ", 1.0), ("important", 1.1), (" word", 1.0)],
    "(unbalanced": [("unbalanced", 1.1)],
    r"\(literal\]": [("(literal]", 1.0)],
    "(unnecessary)(parens)": [("unnecessaryparens", 1.1)],
    "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).": [
        ("a ", 1.0), ("house", 1.3 * 1.1 * 1.1), (" ", 1.1), ("on", 1.0), (" a ", 1.1), ("hill", 0.55),
        (", sun, ", 1.1), ("sky", 1.1 * 1.1 * 1.1 * 1.1), (".", 1.1)],
    "a (red:1.3) fox, ((snow)) [blur]": [("a ", 1.0), ("red", 1.3), (" fox, ", 1.0), ("snow", 1.1 * 1.1), (" ", 1.0),
                                         ("blur", 1 / 1.1)],
    "(cat: 0.5 ) and [[dog]]": [("cat", 0.5), (" and ", 1.0), ("dog", 1 / 1.1 / 1.1)],
    "(a (b:2) c)": [("a ", 1.1), ("b", 2.2), (" c", 1.1)],
    "ink BREAK (wash) BREAK": [("ink", 1.0), ("BREAK", -1.0), ("wash", 1.1), ("BREAK", -1.0)],
    "(ink BREAK wash)": [("ink", 1.1), ("BREAK", -1.0), ("wash", 1.1)],
    "time 10:30": [("time 10:30", 1.0)],
    "": [("", 1.0)],
}


@pytest.mark.parametrize("text", list(WEIGHTS))
def test_weights_are_a1111s(text):
    assert parse_weights(text) == WEIGHTS[text]


def test_lora_tags_come_out_with_their_weights():
    assert extract_loras("mira waving <lora:inkwash:0.6>, <lora:mira_v2>") == ("mira waving", {"inkwash": 0.6,
                                                                                              "mira_v2": 1.0})
    assert extract_loras("no tags") == ("no tags", {})


# ------------------------------------------------------------------ encoding


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Two tokenizers (the second pads with "!" as SDXL's second does) and two tiny text encoders."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    folder = tmp_path_factory.mktemp("clip") / "tokenizer"
    tokenizer = tiny.tokenizer(folder)
    tokenizer_2 = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="!",
                                model_max_length=77)
    config = CLIPTextConfig(vocab_size=1000, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=37, max_position_embeddings=77, projection_dim=32,
                            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                            pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    encoder = CLIPTextModel(config).eval()
    torch.manual_seed(1)
    encoder_2 = CLIPTextModelWithProjection(config).eval()
    return {"sdxl": ([tokenizer, tokenizer_2], [encoder, encoder_2]), "sd15": ([tokenizer], [encoder])}


def positions(tokenizer, prompt: str, word: str) -> list[int]:
    """Where ``word``'s tokens sit in the first window (after BOS)."""
    ids = tokenizer(prompt, add_special_tokens=False).input_ids
    sub = tokenizer(word, add_special_tokens=False).input_ids
    start = next(i for i in range(len(ids)) if ids[i:i + len(sub)] == sub)
    return [1 + start + k for k in range(len(sub))]


def test_sdxl_short_prompt_is_what_the_pipeline_makes_itself(clip):
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline

    tokenizers, encoders = clip["sdxl"]
    pipe = StableDiffusionXLPipeline(vae=None, text_encoder=encoders[0], tokenizer=tokenizers[0],
                                     text_encoder_2=encoders[1], tokenizer_2=tokenizers[1], unet=None,
                                     scheduler=EulerDiscreteScheduler())
    theirs = pipe.encode_prompt("a red fox", device="cpu", num_images_per_prompt=1,
                                do_classifier_free_guidance=True, negative_prompt="blurry")
    ours = encode("a (red:1.0) fox", tokenizers, encoders, negative_prompt="blurry")
    assert [tuple(t.shape) for t in theirs] == [(1, 77, 64), (1, 77, 64), (1, 32), (1, 32)]
    assert all(torch.equal(a, b) for a, b in zip(theirs, (ours.prompt_embeds, ours.negative_prompt_embeds,
                                                          ours.pooled_prompt_embeds,
                                                          ours.negative_pooled_prompt_embeds), strict=True))


def test_sd15_short_prompt_is_what_the_pipeline_makes_itself(clip):
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    tokenizers, encoders = clip["sd15"]
    pipe = StableDiffusionPipeline(vae=None, text_encoder=encoders[0], tokenizer=tokenizers[0], unet=None,
                                   scheduler=EulerDiscreteScheduler(), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    theirs = pipe.encode_prompt("a red fox", "cpu", 1, True, negative_prompt="blurry")
    ours = encode("a red fox", tokenizers, encoders, negative_prompt="blurry")
    assert torch.equal(theirs[0], ours.prompt_embeds) and torch.equal(theirs[1], ours.negative_prompt_embeds)
    assert ours.pooled_prompt_embeds is None and set(ours.as_kwargs()) == {"prompt_embeds", "negative_prompt_embeds"}
    # A1111's "Clip skip: 2": the penultimate layer through the final layer norm
    ids = tokenizers[0]("a red fox", padding="max_length", max_length=77, return_tensors="pt").input_ids
    with torch.no_grad():
        hidden = encoders[0](ids, output_hidden_states=True).hidden_states[-2]
        expected = encoders[0].final_layer_norm(hidden)
    assert torch.equal(encode("a red fox", tokenizers, encoders, clip_skip=2).prompt_embeds, expected)


def test_a_200_token_prompt_is_three_windows_and_the_negative_matches(clip):
    tokenizers, encoders = clip["sdxl"]
    prompt = "abcdefghij" * 20       # one token a letter: 200 tokens
    assert len(tokenizers[0](prompt, add_special_tokens=False).input_ids) == 200
    emb = encode(prompt, tokenizers, encoders, negative_prompt="blurry")
    assert tuple(emb.prompt_embeds.shape) == tuple(emb.negative_prompt_embeds.shape) == (1, 3 * 77, 64)
    assert tuple(emb.pooled_prompt_embeds.shape) == (1, 32)
    # the negative's windows after its first are empty ones; a longer negative pads the prompt instead
    empty = encode("", tokenizers, encoders).prompt_embeds
    assert torch.equal(emb.negative_prompt_embeds[:, 77:154], empty)
    assert torch.equal(emb.negative_prompt_embeds[:, 154:], empty)
    flipped = encode("blurry", tokenizers, encoders, negative_prompt=prompt)
    assert tuple(flipped.prompt_embeds.shape) == (1, 3 * 77, 64)
    assert torch.equal(flipped.prompt_embeds[:, :77], emb.negative_prompt_embeds[:, :77])


def test_windows_are_encoded_on_their_own(clip):
    tokenizers, encoders = clip["sdxl"]
    broken = encode("red fox BREAK snow", tokenizers, encoders)
    assert tuple(broken.prompt_embeds.shape) == (1, 2 * 77, 64)
    assert torch.equal(broken.prompt_embeds[:, :77], encode("red fox", tokenizers, encoders).prompt_embeds)
    assert torch.equal(broken.prompt_embeds[:, 77:], encode("snow", tokenizers, encoders).prompt_embeds)
    # the pooled output is the first window's
    assert torch.equal(broken.pooled_prompt_embeds, encode("red fox", tokenizers, encoders).pooled_prompt_embeds)


def test_a_full_window_moves_the_words_after_a_late_comma_to_the_next(clip):
    tokenizer = clip["sdxl"][0][0]
    prompt = "a" * 70 + ",bcdefghij"            # the comma is token 71 of 80
    assert [len(ids) for ids, _ in windows(parse_weights(prompt), tokenizer)] == [71, 9]
    assert [len(ids) for ids, _ in windows(parse_weights(prompt), tokenizer, backtrack=0)] == [75, 5]
    far = "a" * 40 + "," + "b" * 39             # the comma is 35 tokens before the end: no move
    assert [len(ids) for ids, _ in windows(parse_weights(far), tokenizer)] == [75, 5]


def test_a_weight_scales_only_its_words_positions(clip):
    tokenizers, encoders = clip["sdxl"]
    plain = encode("a cat sits", tokenizers, encoders, normalize=False).prompt_embeds
    weighted = encode("a (cat:1.5) sits", tokenizers, encoders, normalize=False).prompt_embeds
    cat = positions(tokenizers[0], "a cat sits", "cat")
    assert cat == [2, 3, 4]
    others = [i for i in range(77) if i not in cat]
    assert torch.equal(weighted[:, others], plain[:, others])
    assert torch.allclose(weighted[:, cat], plain[:, cat] * 1.5, rtol=0, atol=1e-6)


def test_the_window_mean_is_restored_after_weighting(clip):
    tokenizers, encoders = clip["sd15"]
    plain = encode("a cat sits", tokenizers, encoders).prompt_embeds
    weighted = encode("a (cat:1.5) sits", tokenizers, encoders).prompt_embeds
    assert torch.allclose(weighted.mean(), plain.mean(), rtol=1e-5, atol=1e-7)
    weights = torch.ones(77)
    weights[[2, 3, 4]] = 1.5
    scaled = plain * weights.reshape(1, -1, 1)
    assert torch.allclose(weighted, scaled * (plain.mean() / scaled.mean()), rtol=1e-5, atol=1e-6)


def test_lora_tags_do_not_reach_the_encoder(clip):
    tokenizers, encoders = clip["sdxl"]
    assert torch.equal(encode("red fox <lora:ink:0.5>", tokenizers, encoders).prompt_embeds,
                       encode("red fox", tokenizers, encoders).prompt_embeds)


def test_a_tiny_sdxl_pipeline_draws_from_three_windows(tmp_path):
    from diffusers import StableDiffusionXLPipeline

    pipe = StableDiffusionXLPipeline.from_pretrained(tiny.sdxl(tmp_path / "sdxl"))
    pipe.set_progress_bar_config(disable=True)
    emb = encode("(red:1.2) fox " * 30, [pipe.tokenizer, pipe.tokenizer_2], [pipe.text_encoder, pipe.text_encoder_2],
                 negative_prompt="[blurry]")
    assert emb.prompt_embeds.shape[1] == 3 * 77
    image = pipe(**emb.as_kwargs(), width=64, height=64, num_inference_steps=2,
                 generator=torch.Generator().manual_seed(0)).images[0]
    assert image.size == (64, 64)
