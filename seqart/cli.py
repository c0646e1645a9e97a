"""The `seqart` command line: thin commands over library functions.

This is the only module that parses arguments or prints. Any SeqartError
becomes one line on stderr and exit status 2, with no traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from seqart.errors import SeqartError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train and play mixture-density LSTMs on strokes, notes and poses.")


@app.command()
def train(
    data: Path = typer.Argument(..., help="A data file or folder; its type picks the modality."),
    out: Path = typer.Option(..., "--out", help="Run folder. Training again into it resumes."),
    steps: Optional[int] = typer.Option(None, help="Total training steps."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    hidden: Optional[int] = typer.Option(None, help="Decoder LSTM units."),
    mixtures: Optional[int] = typer.Option(None, help="Gaussians per mixture."),
    seed: Optional[int] = typer.Option(None),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with [model] [train] [codec] tables."),
    set_: List[str] = typer.Option([], "--set", help="SECTION.KEY=VALUE, e.g. model.z_dim=128."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
):
    """Train a model on DATA into a run folder (resumes if the folder has a checkpoint)."""
    from seqart.codecs import codec_for_path
    from seqart.config import defaults, merge
    from seqart.train import train as run_training

    codec = codec_for_path(data)
    flags = {"train.steps": steps, "train.batch_size": batch_size, "model.hidden": hidden,
             "model.mixtures": mixtures, "train.seed": seed}
    sets = list(set_) + [f"{k}={v}" for k, v in flags.items() if v is not None]
    cfg = merge(defaults(codec.options), config, sets)
    result = run_training(data, out, cfg, progress=not quiet)
    typer.echo(json.dumps(result), err=True)


@app.command("eval")
def eval_(
    run: Path = typer.Argument(..., help="A run folder or a model folder."),
    data: Path = typer.Argument(..., help="Data to score (same modality as the model)."),
    split: str = typer.Option("test", help="Which split of DATA: train, valid, test or all."),
):
    """Print held-out NLL (nats per frame), its parts and the frame count as JSON."""
    from seqart.evaluate import evaluate_run

    typer.echo(json.dumps(evaluate_run(run, data, split)))


def main() -> None:
    try:
        app()  # click handles its own usage errors (exit 2)
    except SeqartError as e:
        print(f"seqart: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
