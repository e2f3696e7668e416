"""Speech-like audio for synthetic clips: voiced syllables with formants, pitch contours and pauses.

Not words, but it has what speech detectors, VAD and lip-flap code look for: a fundamental with
harmonics shaped by vowel formants, 4-6 syllables a second, consonant bursts and phrase pauses.

    >>> audio, env = phrase(rng, seconds=1.2, f0=140.0, rate=48000)
"""

from __future__ import annotations

import numpy as np

# (F1, F2, F3) in Hz of five vowels (a, e, i, o, u), typical adult values
VOWELS = np.array([(730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010), (570, 840, 2410), (300, 870, 2240)],
                  dtype=np.float64)
BANDWIDTHS = np.array([90.0, 110.0, 160.0])


def _envelope(n: int, rate: int, attack_s: float = 0.02, release_s: float = 0.05) -> np.ndarray:
    env = np.ones(n)
    a, r = min(n // 2, int(attack_s * rate)), min(n // 2, int(release_s * rate))
    if a:
        env[:a] = np.linspace(0, 1, a)
    if r:
        env[-r:] = np.linspace(1, 0, r)
    return env


def phrase(rng: np.random.Generator, seconds: float, f0: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """A phrase of ``seconds``: (samples in [-1, 1], amplitude envelope in [0, 1])."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    # syllables of 120-260 ms tiling the phrase
    bounds = [0]
    while bounds[-1] < n:
        bounds.append(min(n, bounds[-1] + int(rng.uniform(0.12, 0.26) * rate)))
    formants = np.zeros((n, 3))
    amp = np.zeros(n)
    noise_gate = np.zeros(n)
    for a, b in zip(bounds, bounds[1:], strict=False):
        vowel = VOWELS[rng.integers(len(VOWELS))] * rng.uniform(0.95, 1.05)
        formants[a:b] = vowel
        amp[a:b] = _envelope(b - a, rate) * rng.uniform(0.6, 1.0)
        if rng.random() < 0.6:  # a consonant burst opening the syllable
            c = min(b - a, int(0.03 * rate))
            noise_gate[a:a + c] = np.linspace(1, 0, c)
            amp[a:a + c] *= np.linspace(0.2, 1, c)
    # smooth formant transitions (~15 ms)
    k = max(1, int(0.015 * rate))
    kernel = np.ones(k) / k
    formants = np.stack([np.convolve(formants[:, i], kernel, mode="same") for i in range(3)], axis=1)
    # intonation: declination plus a slow wobble
    contour = f0 * (1.08 - 0.16 * t / max(seconds, 1e-3)) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(2, 4) * t))
    phase = 2 * np.pi * np.cumsum(contour) / rate
    voiced = np.zeros(n)
    harmonics = int(5000 // (f0 * 1.1))
    for h in range(1, harmonics + 1):
        freq = h * contour
        gain = sum(1.0 / (1.0 + ((freq - formants[:, i]) / BANDWIDTHS[i]) ** 2) for i in range(3))
        voiced += gain * np.sin(h * phase) / h ** 0.5
    noise = rng.standard_normal(n) * noise_gate * 0.6
    out = voiced * amp + noise
    peak = np.max(np.abs(out)) or 1.0
    return (out / peak * 0.7).astype(np.float32), amp.astype(np.float32)
