"""The canvas (DRAW's images) codec's settings, declared with the one spec's Setting (seqart.spec): its [codec] options
(`--set codec.KEY=...`, checked whenever the codec is made, from settings or a checkpoint's JSON).
docs/settings.md lists them; a test checks they match the codec's DEFAULTS. "learnt": set when the
codec is fitted on training data and saved with the model.
"""

from seqart.spec import Setting

OPTIONS = [
    Setting("codec.size", int, 28, 4, 256, unit="px", help="images are size x size (resized on reading)"),
    Setting("codec.binarize", str, "stochastic", choices=("stochastic", "threshold", "none"),
            help="none keeps grey (for model.likelihood = logistic)"),
    Setting("codec.threshold", float, 0.5, 0.0, 1.0, help="for binarize = threshold"),
    Setting("codec.binarize_seed", int, 0, 0, 2**32 - 1, help="for binarize = stochastic: the same bits every epoch"),
    Setting("codec.invert", str, "auto", choices=("auto", "yes", "no"), help="pictures: auto inverts a light background"),
    Setting("codec.line_width", float, 1.5, 0.0, 64.0, low_open=True, unit="px", help="rasterised drawings: pen width"),
    Setting("codec.fps", float, 16.0, 0.0, 1000.0, low_open=True, unit="steps/s", help="DRAW steps when animated or played"),
]
