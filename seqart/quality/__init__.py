"""Sample quality as figures: how close generated sequences come to held-out real ones.

Each modality's codec package holds the module that turns its clips into
measurements (`seqart.codecs.strokes.quality`, `.notes.quality`,
`.poses.quality`); `distances` here compares two samples of a measurement. Every figure
is meant to be read beside a real-data control (held-out real against
training real), which shows the distance two honest samples of the data
already have. The benchmarks in `benchmarks/quality_*.py` generate, measure
and judge against thresholds; this package only measures.
"""
