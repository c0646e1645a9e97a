"""seqart: train and play mixture-density LSTMs on strokes, notes and poses."""

from seqart.clip import Clip
from seqart.errors import SeqartError

__all__ = ["Clip", "SeqartError"]
__version__ = "0.1.0"
