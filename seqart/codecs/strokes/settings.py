"""The strokes codec's settings (what a codec's settings.py declares: seqart/codecs/__init__.py)."""

from seqart.spec import Setting

OPTIONS = [
    Setting("codec.rate", float, 60.0, 0.0, 10000.0, low_open=True, unit="points/s", help="when played live or animated"),
    Setting("codec.max_len", int, 250, 0, 10**7, unit="points", help="sketch-rnn's Nmax: longer drawings are left out of training"),
    Setting("codec.scale_aug", float, 0.15, 0.0, 0.99, help="augmentation: random per-axis scale in [1 - a, 1 + a]"),
    Setting("codec.drop_prob", float, 0.10, 0.0, 1.0, help="augmentation: chance of merging a pen-down point into the next"),
    Setting("codec.rdp_epsilon", float, 2.0, 0.0, 1e6, unit="source units", help="simplification of SVG and raw ndjson input"),
    Setting("codec.dequantise", float, 1.0, 0.0, 1e6, unit="source units", help="width of the uniform noise on offsets; 0 = off"),
]
