"""The handwriting codec's settings, declared with the one spec's Setting (seqart.spec): its [codec] options
(`--set codec.KEY=...`, checked whenever the codec is made, from settings or a checkpoint's JSON) and its generation
options (`seqart sample --set KEY=...`, a piece's [options], render.options).
docs/settings.md lists them; a test checks they match the codec's DEFAULTS. "learnt": set when the
codec is fitted on training data and saved with the model.
"""

from dataclasses import replace

from seqart.codecs.strokes.settings import OPTIONS as STROKES
from seqart.spec import Setting

# IAM-OnDB's points are kept as recorded: dropping or simplifying them would change the pace the window learns
OPTIONS = [replace(s, default=0.0) if s.name in ("codec.drop_prob", "codec.rdp_epsilon") else s for s in STROKES] + [
    Setting("codec.alphabet", str, "".join(chr(c) for c in range(32, 127)),
            help="the characters a transcript may hold, in one-hot order (printable ASCII)"),
    Setting("codec.rescale", float, 1.0, 0.0, 1e6, low_open=True, help="learnt: factor on the offsets read (a fine-tune fits it)", learnt=True),
]
GENERATION = [Setting("text", str, None, help="what a text-conditioned model writes")]
