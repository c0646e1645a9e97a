"""The one sampler, shared by file export and the live engine.

`Sampler.step()` returns the next frame, one at a time, so the live engine
can pull frames at its own pace. At batch 1 a torch LSTM call is dominated by
per-call overhead (PERFORMANCE.md), so the sampler copies the weights into
numpy once and steps one fused cell per layer: gates = W @ [x; h] + b, or for
the layer-normalised cell (seqart.rnn) gates = LN_k(W @ [x; h]).

Controls (Ha & Eck 2017, sec. 3.3; Graves 2013, sec. 5.2):
* temperature tau: mixture and categorical logits are divided by tau, and
  each Gaussian's variance is scaled by tau (sigma * sqrt(tau));
* Graves' bias b: logits * (1 + b) and sigma * exp(-b), sharper as b grows;
* greedy: the most likely component's mean and the most likely class
  (the same as tau -> 0).
A model with a copula (seqart.copula) draws a diagonal block's noise correlated across
channels and carried over between frames, sigma * (L @ w) with w an AR(1) series of
N(0, I) draws, so tau scales the whole covariance.

The channel that holds the end token (strokes: the pen state) is the
exception to temperature and bias: it is drawn at the model's own odds, and
greedy takes its most likely class. Lifting the pen and ending happen a few
times in a whole drawing, so at no single step are they the most likely
class; dividing their logits by tau < 1 shrinks them exponentially (p_end = 0.3
against 0.7 for "pen down" becomes 0.014 at tau = 0.2). A tempered model never
lifts its pen, draws one endless jittery line and never finishes (the shipped
sheep at tau = 0.1: 0 of 30 drawings ended within 500 points; drawn at its own
odds: 30 of 30). Temperature still shapes where the pen goes (the offsets) and
every other categorical channel (a pitch, a velocity). Graves (2013) likewise
biases the offsets' mixture but not the end-of-stroke probability.
A text-conditioned model may end only once its window is on the last
character (before that the end class is masked): its line ends when the
text is written, by the end token or by Graves' stopping rule, never halfway.

Every sequence also stops at `max_frames` (see `frame_limit`), so a model that
does not end cannot run forever, in a file or on stage.

Inspection hook: set `Sampler.watch` to a function and it is called after every
model step, in `prime` (teacher forcing through a given clip) and in `step`
(generation), with a `Watched` record: the LSTM's hidden and cell states, the
head's raw output (its mixture and class parameters, `seqart.mdn.split_params`)
and the model-space frame that followed. The studio's Inside views and
`seqart inspect` read states and densities through it, so they run no loop of
their own. None (the default) costs one attribute test a step.
"""

from __future__ import annotations

import numpy as np
import torch

from seqart import spec
from seqart.clip import Clip
from seqart.codecs.base import Codec
from seqart.errors import SeqartError
from seqart.mdn import split_params
from seqart.model import MDNLSTM
from seqart.rnn import EPS as RNN_EPS
from seqart.rnn import LayerNormLSTM


class Watched:
    """One model step as the `Sampler.watch` hook sees it (arrays are copies, safe to keep)."""

    __slots__ = ("h", "c", "raw", "frame", "window")

    def __init__(self, h: np.ndarray, c: np.ndarray, raw: np.ndarray, frame: np.ndarray, window):
        self.h, self.c = h, c  # (layers, H): hidden and cell state after the step
        self.raw = raw  # (P,) head output: the distribution of `frame`, before temperature or bias
        self.frame = frame  # (F,) model-space frame that followed (fed in priming, drawn in generation)
        self.window = window  # (U + 1,) a text model's window weights over the characters, else None


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _layer_norm(a: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Normalise the last axis of a (..., H) to zero mean and unit variance, then gain and bias (torch's form)."""
    d = a - a.mean(-1, keepdims=True)
    return d / np.sqrt((d * d).mean(-1, keepdims=True) + RNN_EPS) * gain + bias


def _draw(rng: np.random.Generator, p: np.ndarray) -> int:
    """An index drawn with probabilities p (K,): the same draw, from the same one uniform,
    as `rng.choice(K, p=p)`, without choice's ~4 us of argument checks (twice per stroke step)."""
    cdf = np.cumsum(p)
    if not cdf[-1] > 0:  # NaN or all zero (e.g. every class disallowed): fail as choice does
        raise ValueError("probabilities are NaN or all zero")
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random(), side="right"))


def frame_limit(meta: dict, model: MDNLSTM) -> int | None:
    """Default frames per generated sequence: a model with an end token (drawings) stops at its
    training window if it has not ended by then (it never learned anything longer); a model that
    streams (notes, poses: no end token) runs until the caller stops it."""
    if model.layout.end is None:
        return None
    return int(meta.get("train", {}).get("max_len") or DEFAULT_WINDOW)


DEFAULT_WINDOW = 1000  # frames, for a model trained on whole sequences (train.max_len = 0)


class Sampler:
    def __init__(self, model: MDNLSTM, codec: Codec, temperature: float = 1.0, bias: float = 0.0,
                 greedy: bool = False, seed: int | None = None, z: np.ndarray | None = None,
                 max_frames: int | None = None):
        """max_frames: each sequence ends after this many frames (None: only at the end token)."""
        self.max_frames = max_frames
        self.model, self.codec, self.layout = model, codec, model.layout
        self.m, self.n_cont = model.cfg.mixtures, model.n_cont
        self.temperature = spec.quantity("temperature").check(temperature, "Sampler")
        self.bias, self.greedy = spec.quantity("bias").check(bias, "Sampler"), greedy
        self.rng = np.random.default_rng(seed)
        self.allowed: dict[str, np.ndarray] = {}  # categorical channel -> bool mask of allowed classes
        for channel, classes in codec.allowed_classes().items():  # e.g. notes: trained pitches
            self.allow(channel, classes)
        self._after = codec.allowed_after  # previous model frame (or None) -> {channel: mask}
        self.window = None  # a text-conditioned model's window and layers (seqart.window), given text by set_text
        self.text: str | None = None  # what a text-conditioned model writes (set_text)
        self.watch = None  # inspection hook: fn(Watched) after every model step (module docstring)
        self._load_weights(model)
        self.fixed_z = None if z is None else np.asarray(z, np.float32)
        self.reset()

    # --- weights ------------------------------------------------------------------------
    def _load_weights(self, model: MDNLSTM) -> None:
        def np_(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().float().numpy().copy()  # own memory: later training must not leak in

        self.head_w, self.head_b = np_(model.head.weight), np_(model.head.bias)
        # per mixture block: (Cholesky factor (D, D) of its copula correlation, lag), or None (seqart.copula)
        factors = model.copula_factors()
        self.copula = [(np_(factors[i][0]).astype(np.float64), factors[i][1]) if i in factors else None
                       for i in range(len(model.layout.mixtures))]
        self.layer_norm = False
        if model.cfg.window_mixtures:
            from seqart.window import WindowStepper

            self.window, self.cells, self.hidden, self.text = WindowStepper(model.decoder), [], model.cfg.hidden, None
            return
        rnn = model.decoder
        self.layer_norm = isinstance(rnn, LayerNormLSTM)
        self.cells = []  # per layer: W (4H, in + H) with torch's gate order i, f, g, o; b (4H,) ...
        for layer in range(rnn.num_layers):
            w = np.concatenate([np_(getattr(rnn, f"weight_ih_l{layer}")), np_(getattr(rnn, f"weight_hh_l{layer}"))], 1)
            if self.layer_norm:  # ... or the layer norms' gains and biases: (4, H) per gate, (H,) for the cell
                H = rnn.hidden_size
                ln = [np_(getattr(rnn, f"{n}_l{layer}")) for n in ("gate_gain", "gate_bias", "cell_gain", "cell_bias")]
                self.cells.append((np.ascontiguousarray(w), ln[0].reshape(4, H), ln[1].reshape(4, H), ln[2], ln[3]))
            else:
                b = np_(getattr(rnn, f"bias_ih_l{layer}")) + np_(getattr(rnn, f"bias_hh_l{layer}"))
                self.cells.append((np.ascontiguousarray(w), b))
        self.hidden = rnn.hidden_size

    # --- state ----------------------------------------------------------------------------
    def reset(self, z: np.ndarray | None = None) -> None:
        """Back to the start of a new sequence (a new latent for a VAE unless one is fixed)."""
        cfg = self.model.cfg
        self.z = None
        if cfg.z_dim:
            self.z = z if z is not None else self.fixed_z
            if self.z is None:
                self.z = self.rng.standard_normal(cfg.z_dim).astype(np.float32)
        n = len(self.cells)
        if self.z is not None:
            with torch.no_grad():
                h0, c0 = self.model.initial_state(torch.from_numpy(self.z)[None], 1)
            self.h = [h0[i, 0].numpy().copy() for i in range(n)]
            self.c = [c0[i, 0].numpy().copy() for i in range(n)]
        else:
            self.h = [np.zeros(self.hidden, np.float32) for _ in range(n)]
            self.c = [np.zeros(self.hidden, np.float32) for _ in range(n)]
        start = np.zeros(self.model.in_dim, np.float32)
        start[-1] = 1.0
        self._input = self._with_z(start)
        self.done, self.frames = False, 0
        self._prev = None  # the last model-space frame, for a codec's `allowed_after`
        self.noise = [None] * len(self.layout.mixtures)  # per block: the copula's last whitened noise
        if self.window is not None:
            self.window.reset()

    @property
    def waiting(self) -> bool:
        """A text-conditioned sampler given no text yet: nothing to generate until `set_text`."""
        return self.window is not None and self.text is None

    def clear_text(self) -> None:
        """Forget the text: a text-conditioned sampler then waits for the next `set_text`."""
        self.text = None

    def check_text(self, text: str, source: str = "text") -> np.ndarray:
        """The text's character codes (U,), or a SeqartError: a model without a window, a character
        outside the alphabet (named), empty text."""
        if self.window is None:
            raise SeqartError("this model does not write text (it has no window: model.window_mixtures = 0)")
        return self.codec.encode_text(text, source)

    def set_text(self, text: str) -> None:
        """What a text-conditioned model writes next (the codec checks every character); resets the state."""
        self.window.set_text(self.check_text(text))
        self.text = text
        self.reset()

    def set_temperature(self, t: float) -> None:
        """A new temperature for the next steps (seqart.spec's range: NaN or negative is an error)."""
        self.temperature = spec.quantity("temperature").check(t, "Sampler")

    def allow(self, channel: str, classes) -> None:
        """Only ever sample these classes of a categorical channel (e.g. pitches of a scale)."""
        k = next(c.classes for c in self.layout.categoricals if c.channel == channel)
        mask = np.zeros(k, bool)
        mask[np.asarray(list(classes), int)] = True
        self.allowed[channel] = mask

    def _with_z(self, x: np.ndarray) -> np.ndarray:
        return x if self.z is None else np.concatenate([x, self.z])

    def _embed(self, frame: np.ndarray) -> np.ndarray:
        """Model-space frame (F,) -> decoder input (in_dim [+ z_dim])."""
        parts = [frame[: self.n_cont]]
        for i, c in enumerate(self.layout.categoricals):
            one = np.zeros(c.classes, np.float32)
            one[int(np.clip(frame[self.n_cont + i], 0, c.classes - 1))] = 1.0
            parts.append(one)
        parts.append(np.zeros(1, np.float32))
        return self._with_z(np.concatenate(parts).astype(np.float32))

    def _advance(self) -> np.ndarray:
        """Run the cells on the pending input; returns the top layer's h (H,) (a window model: every layer's)."""
        if self.window is not None:
            if self.text is None:
                raise SeqartError("this model writes text: give it some (seqart write TEXT, --set text=..., "
                                  "or Sampler.set_text)")
            return self.window.advance(self._input)
        if self.layer_norm:
            return self._advance_layer_norm()
        x = self._input
        for i, (w, b) in enumerate(self.cells):
            g = w @ np.concatenate([x, self.h[i]]) + b
            H = self.hidden
            i_, f_, o_ = (1.0 / (1.0 + np.exp(-g[s : s + H])) for s in (0, H, 3 * H))
            self.c[i] = f_ * self.c[i] + i_ * np.tanh(g[2 * H : 3 * H])
            self.h[i] = o_ * np.tanh(self.c[i])
            x = self.h[i]
        return x

    def _advance_layer_norm(self) -> np.ndarray:
        """The layer-normalised cells (seqart.rnn.LayerNormLSTM; no recurrent dropout when sampling)."""
        x = self._input
        for i, (w, gate_gain, gate_bias, cell_gain, cell_bias) in enumerate(self.cells):
            z = _layer_norm((w @ np.concatenate([x, self.h[i]])).reshape(4, -1), gate_gain, gate_bias)  # (4, H)
            i_, f_, o_ = (1.0 / (1.0 + np.exp(-z[k])) for k in (0, 1, 3))
            self.c[i] = f_ * self.c[i] + i_ * np.tanh(z[2])
            self.h[i] = o_ * np.tanh(_layer_norm(self.c[i], cell_gain, cell_bias))
            x = self.h[i]
        return x

    # --- priming and stepping -----------------------------------------------------------------
    def prime(self, clip: Clip) -> None:
        """Feed a clip's frames (up to any end token) so generation continues it."""
        x = self.codec.to_model(clip)
        if self.layout.end is not None:
            cut = np.flatnonzero(x[:, self.layout.end_column] == self.layout.end[1])
            x = x[: cut[0]] if len(cut) else x
        for frame in x:
            h = self._advance()
            if self.watch is not None:
                self._observe(self.head_w @ h + self.head_b, frame)
            self._input = self._embed(frame)
            self._prev = frame

    def _observe(self, raw: np.ndarray, frame: np.ndarray) -> None:
        """Give the watch hook this step's states, head output and frame."""
        if self.window is not None:
            h, c, phi = self.window.h, self.window.cst, self.window.phi.copy()
        else:
            h, c, phi = self.h, self.c, None
        self.watch(Watched(np.array(h), np.array(c), np.array(raw), np.array(frame), phi))

    def step(self) -> np.ndarray | None:
        """The next frame (C,) in clip units and layout channel order, or None after the end token."""
        if self.done:
            return None
        if self.max_frames is not None and self.frames >= self.max_frames:
            self.done = True
            return None
        h = self._advance()
        if self.window is not None and self.window.finished:  # Graves' stopping rule: past the last character
            self.done = True
            return None
        raw = self.head_w @ h + self.head_b
        frame = self._sample(raw)
        if self.watch is not None:
            self._observe(raw, frame)
        self._input, self._prev = self._embed(frame), frame
        self.frames += 1
        if self._is_end(frame):
            self.done = True
            return None
        return self.codec.from_model(frame[None]).frames[0]

    def _is_end(self, frame: np.ndarray) -> bool:
        if self.layout.end is None:
            return False
        return int(frame[self.layout.end_column]) == self.layout.end[1]

    def _sample(self, raw: np.ndarray) -> np.ndarray:
        mixtures, cats = split_params(raw.astype(np.float64), self.layout, self.m)
        greedy = self.greedy or self.temperature <= 1e-6
        tau = max(self.temperature, 1e-6)
        cont = [self._sample_mixture(p, greedy, tau, i) for i, p in enumerate(mixtures)]
        classes = [self._sample_class(c.channel, logits, greedy, tau, self._end_class(c.channel))
                   for c, logits in zip(self.layout.categoricals, cats)]
        return np.concatenate(cont + [np.asarray(classes, np.float64)]).astype(np.float32)

    def _sample_mixture(self, p: dict, greedy: bool, tau: float, block: int = 0) -> np.ndarray:
        logits = p["logit"] * (1.0 + self.bias)
        k = int(np.argmax(logits)) if greedy else _draw(self.rng, _softmax(logits / tau))
        mu = p["mu"][k]
        if greedy:
            return mu
        sigma = np.exp(p["log_sigma"][k] - self.bias) * np.sqrt(tau)
        n = self.rng.standard_normal(len(mu))
        if "rho" in p:  # correlated pair: second draw shares rho of the first
            rho = p["rho"][k]
            n[1] = rho * n[0] + np.sqrt(1.0 - rho * rho) * n[1]
        elif self.copula[block] is not None:  # a copula: the channels' noise correlated as in the data,
            chol, lag = self.copula[block]  # and carried over from the frame before (seqart.copula)
            w = self.noise[block]
            w = n if w is None else lag * w + np.sqrt(1.0 - lag * lag) * n
            self.noise[block] = w
            n = chol @ w
        return mu + sigma * n

    def _end_class(self, channel: str) -> int | None:
        end = self.layout.end
        return int(end[1]) if end is not None and end[0] == channel else None

    def _sample_class(self, channel: str, logits: np.ndarray, greedy: bool, tau: float, end: int | None) -> int:
        if channel in self.allowed:
            logits = np.where(self.allowed[channel], logits, -np.inf)
        after = self._after(self._prev).get(channel)  # e.g. notes: grid classes in phase
        if after is not None:
            logits = np.where(after, logits, -np.inf)
        if end is not None and self.window is not None and not self.window.on_last:
            logits = logits.copy()  # a text model ends only once its window is on the last character
            logits[end] = -np.inf
        if end is None:  # the end token's channel is drawn at the model's own odds (module docstring)
            logits = logits * (1.0 + self.bias) / tau
        if greedy:
            return int(np.argmax(logits))
        return _draw(self.rng, _softmax(logits))

    # --- whole sequences --------------------------------------------------------------------------
    def generate(self, max_frames: int, prime: Clip | None = None, seconds: float | None = None) -> Clip:
        """A new clip: until the end token, max_frames, or `seconds` of generated time.

        The clip holds only generated frames (plus an end frame when the layout has one).
        """
        self.reset()
        if prime is not None:
            self.prime(prime)
        if self.max_frames is not None:
            max_frames = min(max_frames, self.max_frames)
        frames, elapsed = [], 0.0
        while len(frames) < max_frames and (seconds is None or elapsed < seconds):
            f = self.step()
            if f is None:
                break
            frames.append(f)
            elapsed += self.codec.frame_seconds(f)
        lay = self.layout
        arr = np.asarray(frames, np.float32).reshape(-1, len(lay.channels))
        if lay.end is not None:
            end = np.zeros((1, len(lay.channels)), np.float32)
            end[0, lay.channels.index(lay.end[0])] = lay.end[1]
            arr = np.concatenate([arr, end])
        return Clip(arr, lay.channels, self.codec.modality, **self.codec.clip_defaults())


@torch.no_grad()
def encode(model: MDNLSTM, codec: Codec, clip: Clip) -> np.ndarray:
    """A VAE's latent mean for one clip, (z_dim,)."""
    x = torch.from_numpy(codec.to_model(clip))[None]
    mu, _ = model.encode(x, torch.tensor([x.shape[1]]))
    return mu[0].numpy()


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between latents (falls back to linear when nearly parallel)."""
    na, nb = a / np.linalg.norm(a), b / np.linalg.norm(b)
    omega = np.arccos(np.clip(np.dot(na, nb), -1.0, 1.0))
    if omega < 1e-4:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
