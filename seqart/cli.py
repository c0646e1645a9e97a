"""The `seqart` command line: thin commands over library functions.

This is the only module that parses arguments or prints. Any error (a SeqartError,
or whatever a library raised on bad input) becomes one line on stderr and exit
status 2, with no traceback; NumPy's RuntimeWarnings are not shown.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from seqart.errors import SeqartError

# rich_markup_mode=None: help texts are shown as written ("[model]" is a settings table, not markup).
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                  help="Train and play mixture-density LSTMs on strokes, notes and poses.")


def _version(value: bool) -> None:
    if value:
        from seqart import __version__

        typer.echo(f"seqart {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show seqart's version and exit.")) -> None:
    """Train and play mixture-density LSTMs on strokes, notes and poses."""


@app.command()
def train(
    data: Path = typer.Argument(..., metavar="DATA", help="A data file or folder (its type picks the modality), "
                                "or a prepared cache (seqart prepare)."),
    out: Path = typer.Option(..., "--out", help="Run folder. Training again into it resumes."),
    steps: Optional[int] = typer.Option(None, help="Total training steps."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    hidden: Optional[int] = typer.Option(None, help="Decoder LSTM units."),
    mixtures: Optional[int] = typer.Option(None, help="Gaussians per mixture."),
    seed: Optional[int] = typer.Option(None),
    init: Optional[str] = typer.Option(None, "--init", help="Fine-tune: start from this model's weights "
                                       "(run folder, model folder or shipped name); its codec is kept."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with [model] [train] [codec] tables."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="SECTION.KEY=VALUE, e.g. model.z_dim=128."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    modality: Optional[str] = typer.Option(None, "--modality", help="Read DATA as this modality instead of by "
                                           "file type, e.g. canvas: drawings rasterised into images for DRAW."),
):
    """Train a model on DATA into a run folder (resumes if the folder has a checkpoint)."""
    from seqart.codecs import codec_class
    from seqart.config import defaults, merge
    from seqart.data import open_codec
    from seqart.train import train as run_training

    codec = codec_class(modality)() if modality else open_codec(data)
    flags = {"train.steps": steps, "train.batch_size": batch_size, "model.hidden": hidden,
             "model.mixtures": mixtures, "train.seed": seed}
    sets = list(set_) + [f"{k}={v}" for k, v in flags.items() if v is not None]
    cfg = merge(defaults(codec.options, codec.family), config, sets, codec.family, codec.settings)
    if init is not None:
        cfg["train"]["init"] = init
    _describe_data(codec, data, cfg["codec"])
    result = run_training(data, out, cfg, progress=not quiet, log=_log_line, modality=modality)
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 validates: its summary is the run's
        typer.echo(json.dumps(result), err=True)
    if "interrupted" in result:  # the shell's convention for a run ended by a signal: 128 + its number
        raise typer.Exit(128 + (15 if "SIGTERM" in result["interrupted"] else 2))


def _log_line(line: str) -> None:
    """A line for the person training, printed above the progress bar rather than through it."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


@app.command()
def prepare(
    data: List[Path] = typer.Argument(..., metavar="DATA...", help="Data files or folders of one modality, "
                                      "each read through its codec once."),
    out: Path = typer.Option(..., "--out", help="The cache folder to write (must not exist)."),
    shard_mb: float = typer.Option(64.0, "--shard-mb", help="About this many MB of frames per shard."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="codec.KEY=VALUE: a codec option, "
                                   "fixed in the cache."),
):
    """Write DATA as a sharded cache that `train` and `eval` stream from (for data larger than memory).

    Several DATA (e.g. many Quick, Draw! class files) are read, split and written one at a time."""
    from seqart.codecs import codec_for_path
    from seqart.config import defaults, merge
    from seqart.shards import prepare as prepare_cache

    _check_flags(shard_mb=shard_mb)
    for item in set_:
        if not item.strip().startswith("codec."):
            raise SeqartError(f"--set {item}: prepare takes only codec.KEY=VALUE")
    codec = codec_for_path(data[0])
    options = merge(defaults(codec.options), None, list(set_), codec_settings=codec.settings)["codec"]
    index = prepare_cache(data, out, shard_mb, options)
    counts = {k: v["clips"] for k, v in index["splits"].items()}
    shards = sum(len(v["shards"]) for v in index["splits"].values())
    typer.echo(f"wrote {out}: {shards} shards, clips {counts}, hash {index['hash'][:12]}", err=True)


@app.command("eval")
def eval_(
    run: Path = typer.Argument(..., metavar="RUN", help="A run folder or a model folder."),
    data: Path = typer.Argument(..., metavar="DATA", help="Data to score (same modality as the model), or a prepared cache."),
    split: str = typer.Option("test", help="Which split of DATA: train, valid, test or all."),
):
    """Print held-out NLL (nats per frame), its parts and the frame count as JSON."""
    from seqart.evaluate import evaluate_run
    from seqart.modelio import load_model

    _describe_data(load_model(run)[1], data)
    typer.echo(json.dumps(evaluate_run(run, data, split)))


@app.command()
def sample(
    run: Path = typer.Argument(..., metavar="RUN", help="A run folder, a model folder, or a shipped model's name."),
    out: Path = typer.Option(..., "--out", help="Output file; its extension picks the format."),
    n: int = typer.Option(1, "-n", help="How many sequences."),
    temperature: float = typer.Option(1.0, "--temperature", "-t"),
    seed: int = typer.Option(0, help="Same seed, same model: byte-identical output."),
    prime: Optional[Path] = typer.Option(None, "--prime", help="A file whose first sequence the model continues."),
    prime_seconds: Optional[float] = typer.Option(None, "--prime-seconds", help="Prime with only the first S seconds."),
    frames: Optional[int] = typer.Option(None, "--frames", help="At most this many frames per sequence."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Stop after this much generated time."),
    bias: float = typer.Option(0.0, "--bias", help="Graves' sampling bias b (sharper as b grows)."),
    greedy: bool = typer.Option(False, "--greedy", help="Most likely component and class at every step."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="KEY=VALUE: a generation option (e.g. scale=C:major for notes) or export.OPTION (e.g. export.page=a3)."),
):
    """Generate sequences from a trained model and write them to a file."""
    from seqart.export import export_clips
    from seqart.generate import sample_clips

    options = dict(_key_value(item) for item in set_)
    export = {k.removeprefix("export."): _parse_value(v) for k, v in options.items() if k.startswith("export.")}
    options = {k: v for k, v in options.items() if not k.startswith("export.")}
    clips = sample_clips(run, n, temperature, seed, prime, prime_seconds, frames, seconds, bias, greedy, options)
    export_clips(clips, out, **export)
    typer.echo(f"wrote {out} ({n} sequence{'s' if n != 1 else ''})", err=True)


@app.command()
def interpolate(
    run: Path = typer.Argument(..., metavar="RUN", help="A VAE run or model folder."),
    a: Path = typer.Argument(..., metavar="A", help="First drawing (its first sequence)."),
    b: Path = typer.Argument(..., metavar="B", help="Second drawing."),
    out: Path = typer.Option(..., "--out"),
    steps: int = typer.Option(8, "--steps", help="Sequences from A to B, ends included."),
    temperature: float = typer.Option(0.1, "--temperature", "-t"),
    seed: int = typer.Option(0),
):
    """Morph from A to B through the latent space of a VAE model."""
    from seqart.export import export_clips
    from seqart.generate import interpolate_clips

    export_clips(interpolate_clips(run, a, b, steps, temperature, seed), out)
    typer.echo(f"wrote {out} ({steps} steps)", err=True)


@app.command()
def write(
    text: Optional[str] = typer.Argument(None, metavar="TEXT", help="What to write (wrapped to --chars-per-line)."),
    model: Path = typer.Option(..., "--model", help="A handwriting model: run folder, model folder or shipped name."),
    text_file: Optional[Path] = typer.Option(None, "--text-file", help="Write this UTF-8 file's text instead of TEXT "
                                             "(blank lines separate paragraphs)."),
    out: Path = typer.Option(..., "--out", help="Output file: .svg (one <path> per stroke), .png or .gif."),
    bias: float = typer.Option(0.0, "--bias", help="Graves' sampling bias b: neater as b grows."),
    temperature: float = typer.Option(1.0, "--temperature", "-t"),
    seed: int = typer.Option(0, help="Same seed, same model: byte-identical output."),
    width_mm: float = typer.Option(150.0, "--width-mm", help="The widest line's width on the page, in mm."),
    chars_per_line: Optional[int] = typer.Option(None, "--chars-per-line", help="Wrap at this many characters "
                                                 "(default: --width-mm / 7.5, as long as the synthetic set's lines)."),
    style: Optional[Path] = typer.Option(None, "--style", help="A line in the hand to imitate (.svg, .ndjson, "
                                         "IAM-OnDB .xml) with its transcript beside it, or give --style-text."),
    style_text: Optional[str] = typer.Option(None, "--style-text", help="What the --style line says."),
):
    """Write TEXT (or --text-file) in a trained hand, as a single-line centreline drawing, wrapped into lines."""
    from seqart.export import export_clips
    from seqart.handwrite import MM_PER_CHAR, page_options, write_page
    from seqart.limits import read_text

    _check_flags(width_mm=width_mm, chars_per_line=chars_per_line, bias=bias, temperature=temperature, seed=seed)
    if style_text is not None and style is None:
        raise SeqartError("--style-text needs --style (the line it transcribes)")
    if (text is None) == (text_file is None):
        raise SeqartError("give the text to write either as TEXT or as --text-file FILE (one of the two)")
    source = "text" if text_file is None else str(text_file)
    text = read_text(text_file) if text_file is not None else text
    wrap_at = chars_per_line or max(1, int(width_mm / MM_PER_CHAR))
    clip = write_page(model, text, chars_per_line=wrap_at, source=source, bias=bias, temperature=temperature,
                      seed=seed, style=style, style_text=style_text)
    export_clips([clip], out, **page_options(clip, width_mm))
    typer.echo(f"wrote {out} ({clip.meta['text'].count(chr(10)) + 1} lines, {len(clip) - 1} points)", err=True)


@app.command("make-handwriting")
def make_handwriting(
    out: Path = typer.Argument(..., metavar="OUT", help="Folder for the lines (IAM-OnDB's layout)."),
    lines: int = typer.Option(2000, "--lines", help="How many lines to write."),
    seed: int = typer.Option(0, help="Same seed, same files."),
    heldout: int = typer.Option(100, "--heldout", help="Phrases kept out of training, listed in OUT/heldout-phrases.txt."),
    phrases: Optional[Path] = typer.Option(None, "--phrases", help="Write these phrases (one a line) instead, "
                                           "e.g. a held-out list, to make a test set."),
):
    """Write a synthetic handwriting set from Hershey's script fonts, to train `seqart train OUT` on."""
    from seqart.codecs.handwriting.synthetic import write_set

    _check_flags(lines=lines, heldout=heldout, seed=seed)
    given = None
    if phrases is not None:
        try:
            given = [ln.strip() for ln in phrases.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as e:
            raise SeqartError(f"{phrases}: cannot read the phrases ({e})") from None
        if not given:
            raise SeqartError(f"{phrases}: no phrases in this file")
    typer.echo(json.dumps(write_set(out, lines, seed, heldout, given)))


@app.command()
def demo(out: Path = typer.Option(Path("seqart-demo"), "--out", help="Folder for the results.")):
    """Make art from the shipped models: sketches, and whatever other models ship."""
    from seqart.demo import run_demo

    for path in run_demo(out):
        typer.echo(str(path))


@app.command()
def render(
    piece: Path = typer.Argument(..., metavar="PIECE", help="A render piece (.toml with a [render] table)."),
    out_dir: Path = typer.Option(Path("."), "--out-dir", help="Folder for the piece's output files."),
):
    """Render a piece to files (MIDI, piano roll, audio, SVG, BVH...) instead of playing it live."""
    from seqart.render import render_piece

    for path in render_piece(piece, out_dir):
        typer.echo(str(path))


@app.command()
def perform(
    piece: Optional[Path] = typer.Argument(None, metavar="PIECE", help="A piece (.toml) from pieces/ or your own."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after SECONDS (default: the piece's, or until Ctrl-C)."),
    osc: Optional[str] = typer.Option(None, "--osc", help="Send OSC to HOST:PORT instead of the piece's target."),
    midi: Optional[str] = typer.Option(None, "--midi", help="Send MIDI to this port instead of the piece's."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help="Override a piece setting, KEY=VALUE (dotted keys)."),
    list_ports: bool = typer.Option(False, "--list-ports", help="Show the available MIDI and OSC outputs and exit."),
):
    """Play a piece live: stream generated frames over OSC and MIDI, in time, under control."""
    from seqart.live.perform import list_outputs, perform as run_piece

    if list_ports:
        for line in list_outputs():
            typer.echo(line)
        return
    if piece is None:
        raise SeqartError("perform: give a PIECE.toml (or --list-ports)")
    _check_flags(duration=duration)
    run_piece(piece, duration=duration, osc=osc, midi=midi, sets=list(set_),
              status=lambda line: typer.echo(line, err=True))


@app.command()
def studio(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on; any but 127.0.0.1 needs the "
                             "token the studio prints (in the URL)."),
    port: int = typer.Option(8765, "--port", help="TCP port (0: any free one)."),
    models: List[Path] = typer.Option([], "--models", metavar="DIR", help="A run or model folder, or a folder "
                                      "of them, to offer beside the shipped models (repeat for more)."),
):
    """Play the models in a browser (Draw, Play, Dance, Perform) and see inside them (Inside)."""
    from seqart.studio.server import serve

    _check_flags(port=port)
    serve(host, port, list(models), status=lambda line: typer.echo(line, err=True))


@app.command()
def inspect(
    run: Path = typer.Argument(..., metavar="RUN", help="A run folder, a model folder or a shipped model's name."),
    input_: Path = typer.Argument(..., metavar="INPUT", help="A file the model's codec reads; its first sequence "
                                  "(or --index) is looked inside, the next ones are searched by the match view."),
    out: Path = typer.Option(..., "--out", help="view.png (the figure) or view.html (figure, select and match)."),
    index: int = typer.Option(0, "--index", help="Which sequence of INPUT."),
    threshold: float = typer.Option(0.3, "--threshold", help="Select view: a unit is on above this (-1..1)."),
):
    """Look inside a model: its prediction at every step of INPUT, and its hidden and cell states."""
    from seqart.studio.figure import write_view

    import seqart
    from seqart import family

    _check_flags(threshold=threshold, index=index)
    if out.suffix.lower() not in (".png", ".html"):
        raise SeqartError(f"--out {out}: inspect writes .png or .html")
    model = seqart.load(run)
    clips = [c for split in model.codec.read(input_).values() for c in split]
    if not 0 <= index < len(clips):
        raise SeqartError(f"--index {index}: {input_} holds {len(clips)} sequence(s)")
    others = [c for i, c in enumerate(clips[:21]) if i != index][:20]  # for the match view
    write_view(family.of_model(model.model).inside(model, clips[index], others), out, threshold)
    typer.echo(f"wrote {out}", err=True)


def _describe_data(codec, data: Path, options: dict | None = None) -> None:
    """Say on stderr what a codec takes from the data, where it says anything (notes: the track per file)."""
    for line in codec.describe_data(data, options):
        typer.echo(line, err=True)


def _parse_value(text: str):
    from seqart.config import parse_value

    return parse_value(text)


def _check_flags(**values) -> None:
    """Each flag's value (by parameter name: shard_mb is --shard-mb) against seqart.spec.FLAGS, or
    the generation table (seed...); one line naming the flag."""
    from dataclasses import replace

    from seqart import spec

    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        declared = next((s for s in spec.FLAGS if s.name == flag), None) or replace(spec.setting(name), name=flag)
        if value is not None:
            declared.check(value)


def _key_value(item: str) -> tuple[str, str]:
    key, eq, value = item.partition("=")
    if not eq or not key.strip():
        raise SeqartError(f"--set {item}: expected KEY=VALUE")
    return key.strip(), value.strip()


def main() -> None:
    """Run a command; any error is one line on stderr and exit status 2 (SEQART_DEBUG=1: the traceback)."""
    import os
    import warnings

    # NumPy's "overflow encountered" and the like are notes for programmers: bad values are
    # refused with a line of their own, and these would be noise before it.
    warnings.simplefilter("ignore", RuntimeWarning)
    try:
        # Not standalone: click's usage errors (a flag's value of the wrong type, an unknown
        # option) come here and are said in one line like every other error, not as a usage block.
        status = app(standalone_mode=False)
    except SeqartError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as e:  # noqa: BLE001 - a library's error on bad input (OSError, RecursionError, MemoryError...)
        if _usage_error(e):
            _fail(e.format_message(), e.exit_code)
        if type(e).__name__ == "Abort":  # click's name for Ctrl-C
            _fail("interrupted", 130)
        if os.environ.get("SEQART_DEBUG"):
            raise
        _fail(f"{type(e).__name__}: {e}")
    sys.exit(status if isinstance(status, int) else 0)


def _usage_error(e: Exception) -> bool:
    """Whether e is click's (typer's) error about the command line itself; `seqart` alone shows the help."""
    if not (hasattr(e, "format_message") and hasattr(e, "exit_code")):
        return False
    if type(e).__name__ == "NoArgsIsHelpError":
        e.show()
        sys.exit(e.exit_code)
    return True


def _fail(message: str, status: int = 2) -> None:
    line = " ".join(message.split())  # one line, whatever the message held
    print(f"seqart: error: {line[:2000]}", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
