"""Writing clips to files people use: one registry keyed by (modality, extension).

The writers live with their modality's codec: each codec class names the
modules that hold its writers (`Codec.writer_modules`, e.g. the notes codec's
`seqart.codecs.notes.writers`), and each such module registers its writers
when imported::

    @register_writer("notes", ".mid")
    def write_midi(clips, dest, *, tempo=120.0): ...

This package holds only what every writer shares (the registry, `output`,
option checks, GIF timing, provenance) and names no modality.

A writer takes a list of clips, a destination (a path or an open stream:
text for SVG, binary for images and MIDI) and keyword-only options. It is
deterministic: the same clips and options give byte-identical files. Writing
to a path goes through `output()`, which writes a temporary file beside the
target and renames it, so a failed export never leaves a half-written file.

`export_clips(clips, path, **options)` picks the writer from the clips'
modality and the path's extension; unknown extensions and options are a
one-line SeqartError.
"""

from __future__ import annotations

import importlib
import inspect
import os
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from seqart.clip import Clip
from seqart.errors import SeqartError

Writer = Callable[..., None]  # (clips: list[Clip], dest: path | stream, **options) -> None
_WRITERS: dict[tuple[str, str], Writer] = {}
_loaded = False


def register_writer(modality: str, *extensions: str) -> Callable[[Writer], Writer]:
    """Decorator: `fn` writes `modality` clips to files ending in any of `extensions` (".svg")."""

    def deco(fn: Writer) -> Writer:
        for ext in extensions:
            _WRITERS[(modality, ext.lower())] = fn
        return fn

    return deco


_unavailable: dict[str, str] = {}  # module -> why it could not be imported


def _load_all() -> None:
    # Each codec names its writer modules, which register themselves on import, so a new
    # modality adds its codec folder and nothing here changes. A module whose
    # third-party package is missing must not stop the others from working.
    global _loaded
    if not _loaded:
        from seqart.codecs import codec_class, known_modalities

        for mod in sorted({m for name in known_modalities() for m in codec_class(name).writer_modules}):
            try:
                importlib.import_module(mod)
            except ImportError as e:
                _unavailable[mod] = str(e)
        _loaded = True


def known_extensions(modality: str) -> list[str]:
    _load_all()
    return sorted(ext for mod, ext in _WRITERS if mod == modality)


def writer_for(modality: str, path: Path | str, ext: str | None = None) -> Writer:
    """The writer for `modality` clips and this path's extension (or `ext`, e.g. ".svg")."""
    _load_all()
    ext = (ext or Path(path).suffix).lower()
    fn = _WRITERS.get((modality, ext))
    if fn is None:
        what = f"{ext} files" if ext else "a file without an extension"
        known = ", ".join(known_extensions(modality)) or "none"
        missing = "".join(f"; {m} not loaded: {why}" for m, why in sorted(_unavailable.items()))
        raise SeqartError(f"{path}: cannot write {what} from {modality} clips (known extensions: {known}){missing}")
    return fn


def export_clips(clips: Clip | Iterable[Clip], dest, format: str | None = None, **options) -> Path | None:
    """Write clips to `dest`, a path or an open stream (text for SVG, binary otherwise).

    The format is `format` (an extension: "svg", ".mid") or else the path's extension; a
    stream needs `format`. Returns the path written, or None for a stream.
    """
    clips = [clips] if isinstance(clips, Clip) else list(clips)
    stream = hasattr(dest, "write")
    where = f"{format} stream" if stream else str(dest)
    if stream and not format:
        raise SeqartError("writing to a stream needs format= (an extension such as 'svg' or 'mid')")
    if not clips:
        raise SeqartError(f"{where}: nothing to export (no clips)")
    modalities = sorted({c.modality for c in clips})
    if len(modalities) > 1:
        raise SeqartError(f"{where}: cannot mix modalities in one file ({', '.join(modalities)})")
    fn = writer_for(modalities[0], where, "." + format.lower().lstrip(".") if format else None)
    check_options(fn, options, where)
    fn(clips, dest, **options)
    return None if stream else Path(dest)


def check_options(fn: Writer, options: dict, where: str) -> None:
    """Unknown option names, values of the wrong type and values out of range: one line each,
    against the spec's export options (seqart.spec.EXPORT; None, where a writer allows it, is "auto")."""
    from seqart import spec

    params = {p.name: p for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY}
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise SeqartError(f"{where}: unknown export option(s) {', '.join(unknown)} (known: {', '.join(params)})")
    declared = {s.name: s for s in spec.EXPORT}
    for key, value in options.items():  # with this writer's default: None only where it means "auto" here
        default = params[key].default
        # an option the spec does not know yet (a new writer's own) keeps at least its default's type
        s = declared.get(f"export.{key}") or spec.Setting(f"export.{key}", object if default is None else type(default))
        replace(s, default=default).check(value, where)


@contextmanager
def output(dest, binary: bool):
    """Yield a file to write to: `dest` itself if it is a stream, else a temp file renamed onto it."""
    if hasattr(dest, "write"):
        yield dest
        return
    path = Path(dest)
    if not path.parent.is_dir():
        raise SeqartError(f"{path}: folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as e:
        raise SeqartError(f"{path}: cannot write here ({e.strerror})") from None
    try:
        # newline="\n" so text output is the same bytes on every platform.
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": "\n"})) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise SeqartError(f"{path}: cannot write ({e.strerror or e})") from None
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


__all__ = ["export_clips", "register_writer", "writer_for", "known_extensions", "output", "check_options"]
