"""Readers for native file formats. Each returns plain arrays or Clips and raises SeqartError on bad input."""
