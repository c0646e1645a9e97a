"""The poses codec's settings (what a codec's settings.py declares: seqart/codecs/__init__.py)."""

from seqart.spec import Setting

_SECONDS = dict(unit="s")
OPTIONS = [
    Setting("codec.fps", float, 30.0, 0.0, 1000.0, low_open=True, unit="fps", help="frames per second of the model"),
    Setting("codec.source_fps", float, 0.0, 0.0, 10000.0, unit="fps", help="of the files; 0 = their Frame Time"),
    Setting("codec.trim_start", int, 0, 0, 10**9, unit="frames", help="dropped from the start of every file"),
    Setting("codec.static_deg", float, 0.5, 0.0, 360.0, unit="deg", help="joints varying less carry no channels"),
    Setting("codec.velocity", bool, True, help="add 6-D rotation velocities"),
    Setting("codec.drift", float, 0.1, 0.0, 1.0, low_open=True, help="weight of the absolute rotation when decoding"),
    Setting("codec.mirror", float, 0.5, 0.0, 1.0, help="augmentation: chance of a left/right mirrored copy"),
    Setting("codec.speed", float, 0.0, 0.0, 0.9, help="augmentation: random speed in [1 - s, 1 + s]"),
    Setting("codec.forward", list, [0.0, 0.0, 1.0], help="the skeleton's facing direction in its rest pose"),
    Setting("codec.contact", bool, False, help="foot-contact channels; planted feet pinned when decoding"),
    Setting("codec.pin_feet", bool, False, help="without contact channels: pin low, slow feet when decoding"),
    Setting("codec.contact_height", float, 0.03, 0.0, 10.0, low_open=True, unit="body heights", help="a foot touches within"),
    Setting("codec.contact_speed", float, 0.2, 0.0, 100.0, low_open=True, unit="body heights/s", help="...moving slower"),
    Setting("codec.stage_seconds", float, 0.0, 0.0, 1e6, **_SECONDS,
            help="> 0: a generated dancer drifts back to where it began (time constant; never while a foot is planted)"),
    Setting("codec.feet", (list, dict), None, help="foot joint names (a list; none = found); learnt: {name: floor}"),
    Setting("codec.chunk_seconds", float, 0.0, 0.0, 1e6, **_SECONDS, help="training clips this long; 0 = whole files"),
    Setting("codec.exclude", list, [], help="file names (without .bvh) not to read"),
    Setting("codec.valid", list, [], help="file names that form the validation split"),
    Setting("codec.test", list, [], help="file names that form the test split"),
] + [Setting(f"codec.{k}", object, None, help="learnt: " + h, learnt=True) for k, h in (
    ("skeleton", "the skeleton of the first file"), ("kept", "joints with rotation channels"),
    ("static", "mean angles of the joints left out"), ("constant", "channels that never change"),
    ("body_height", "the rest pose's height, file units"))]
GENERATION = [Setting("drift", float, None, 0.0, 1.0, low_open=True, help="weight of the absolute rotation when decoding"),
              Setting("stage_seconds", float, None, 0.0, 1e6, unit="s",
                      help="> 0: the dancer drifts back to where it began (time constant; 0 = wanders freely)")]
