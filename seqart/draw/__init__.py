"""DRAW, the second model family (Gregor et al. 2015): a recurrent VAE that paints an image.

* `filterbank`: the N x N grid of Gaussian filters that reads and writes (centre, stride,
  variance, intensity);
* `model`: `DRAWConfig` (the `[model]` settings) and `DRAW` (encoder and decoder LSTMCells,
  per-step latents and their KL, the canvas, Bernoulli or discretised-logistic likelihood);
* `sampler`: `CanvasSampler`, the stepwise generator (`step()` -> window + canvas, T times).

Data comes through the canvas codec (`seqart.codecs.canvas`), files go out through
`seqart.codecs.canvas.writers`, and training through the one trainer (`seqart.family`).
"""
