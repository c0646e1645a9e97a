"""Download the full sketch datasets that seqart's small samples come from.

    python datasets/get_sketches.py sheep             # aaron_sheep.npz (2.3 MB, CC BY-NC 4.0)
    python datasets/get_sketches.py kanji             # kanji.rdp200.npz (3.3 MB, CC BY-SA 3.0)
    python datasets/get_sketches.py sketchrnn cat owl # Quick, Draw! sketch-rnn .npz per word (CC BY 4.0)
    python datasets/get_sketches.py simplified cat    # Quick, Draw! simplified .ndjson per word
    python datasets/get_sketches.py raw cat           # Quick, Draw! raw .ndjson per word (with timing)
    python datasets/get_sketches.py hershey           # all 32 Hershey .jhf fonts + hershey.txt

Files land in `datasets/sketches/full/` (or `--out DIR`) and are written to a
temporary name first, so an interrupted download never leaves half a file.
Where the exact upstream file is known, its SHA-256 is checked.
Every file seqart reads is read without running code from it, so a
downloaded .npz is safe to train on: `seqart train datasets/sketches/full/aaron_sheep.npz ...`.
Words are Quick, Draw! category names (categories.txt upstream); spaces are allowed ("hot dog").
The full ndjson files are large (tens to hundreds of MB per word; raw is several times simplified).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import urllib.parse
import urllib.request
from pathlib import Path

SKETCH_RNN_REPO = "https://raw.githubusercontent.com/hardmaru/sketch-rnn-datasets/7c854dee76090aa18c321c7af2cede815bbd475e"
HERSHEY_REPO = "https://raw.githubusercontent.com/kamalmostafa/hershey-fonts/1356bf2f83d380fcef68c887e88675eb9d445d86/hershey-fonts"
QUICKDRAW = "https://storage.googleapis.com/quickdraw_dataset"
HERSHEY_FONTS = (
    "astrology cursive cyrilc_1 cyrillic futural futuram gothgbt gothgrt gothiceng gothicger gothicita "
    "gothitt greek greekc greeks japanese markers mathlow mathupp meteorology music rowmand rowmans "
    "rowmant scriptc scripts symbolic timesg timesi timesib timesr timesrb"
).split()
SHA256 = {
    "aaron_sheep.npz": "65f8e51e43587661798ac137a204c9e049e0d11dcd50cba372ae3ca32de8b54c",
    "kanji.rdp200.npz": "64d6775231d7868be190efba7886129d41d15e77d5a86751de0613a01623478c",
    "hershey.txt": "6ffb639e2d2799e987cec4f913473d4119e4270b65c13ceafe1cd502f904d855",
}


def downloads(kind: str, words: list[str]) -> list[tuple[str, str]]:
    """[(url, local file name)] for one kind of dataset."""
    q = urllib.parse.quote
    if kind == "sheep":
        return [(f"{SKETCH_RNN_REPO}/aaron_sheep/aaron_sheep.npz", "aaron_sheep.npz")]
    if kind == "kanji":
        return [(f"{SKETCH_RNN_REPO}/kanji/kanji.rdp200.npz", "kanji.rdp200.npz")]
    if kind == "hershey":
        files = [f"{f}.jhf" for f in HERSHEY_FONTS] + ["hershey.txt"]  # the notice must travel with the fonts
        return [(f"{HERSHEY_REPO}/{f}", f"hershey/{f}") for f in files]
    if not words:
        raise SystemExit(f"{kind}: name at least one Quick, Draw! word, e.g. cat")
    folder = {"sketchrnn": "sketchrnn", "simplified": "full/simplified", "raw": "full/raw"}[kind]
    ext = ".npz" if kind == "sketchrnn" else ".ndjson"
    return [(f"{QUICKDRAW}/{folder}/{q(w)}{ext}", f"quickdraw_{kind}/{w}{ext}") for w in words]


def fetch(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
        while chunk := r.read(1 << 20):
            f.write(chunk)
            digest.update(chunk)
    want = SHA256.get(dest.name)
    if want and digest.hexdigest() != want:
        tmp.unlink()
        raise SystemExit(f"{url}: checksum mismatch (got {digest.hexdigest()}, expected {want})")
    os.replace(tmp, dest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["sheep", "kanji", "sketchrnn", "simplified", "raw", "hershey"])
    ap.add_argument("words", nargs="*", help="Quick, Draw! words (for sketchrnn/simplified/raw)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sketches" / "full")
    args = ap.parse_args(argv)
    for url, name in downloads(args.kind, args.words):
        dest = args.out / name
        print(f"{url} -> {dest}", file=sys.stderr)
        fetch(url, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
