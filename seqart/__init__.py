"""seqart: train and play mixture-density LSTMs on strokes, notes and poses.

The public API (see `seqart.api`): `load`, `read`, `save`, `perform`, the `Model` that `load`
gives (`.sample()`, `.sampler()`), and `Clip`, the sequence type everything passes around.
"""

from seqart.clip import Clip
from seqart.errors import SeqartError

__all__ = ["Clip", "Model", "SeqartError", "load", "perform", "read", "save"]
__version__ = "0.1.0"

_API = {"Model", "load", "perform", "read", "save"}


def __getattr__(name: str):
    # The API pulls in torch; importing it on first use keeps `import seqart.clip` (and the
    # CLI's --help) light for tools that only pass clips around.
    if name in _API:
        from seqart import api

        return getattr(api, name)
    raise AttributeError(f"module 'seqart' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _API)
