"""`docpipe finetune OUT --schema S --model BASE --adapter-out DIR`: a LoRA adapter trained on the
documents reviewers marked done, then the base model and the adapter scored side by side on those
held out (docpipe/tune/, engines/inprocess/lora.py)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from docpipe.cli.failing import fail
from docpipe.cli.help_option import Command


def register(app: typer.Typer) -> None:
    app.command(cls=Command)(finetune)


def finetune(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder whose reviewed documents are the training set", metavar="OUT")],
    schema: Annotated[str, typer.Option(help="The schema whose reviewed records are learnt", metavar="NAME|FILE")],
    adapter_out: Annotated[Path, typer.Option(help="Folder for the adapter (peft's files and docpipe_adapter.json)", metavar="FOLDER")],
    model: Annotated[str | None, typer.Option(help="The base model (hub id, folder, tiny-random); default: chosen by hardware, as docpipe run", metavar="MODEL")] = None,
    rank: Annotated[int, typer.Option(help="LoRA rank", metavar="N", min=1)] = 16,
    alpha: Annotated[int, typer.Option(help="LoRA alpha (scale = alpha / rank)", metavar="N", min=1)] = 16,
    epochs: Annotated[int, typer.Option(help="Passes over the training documents", metavar="N", min=1)] = 3,
    learning_rate: Annotated[float, typer.Option(help="AdamW's learning rate", metavar="NUMBER", min=0.0)] = 2e-4,
    held_out: Annotated[float, typer.Option(help="Share of the reviewed documents kept out of training and scored before and after (0: none)", metavar="NUMBER", min=0.0, max=0.9)] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the training order", metavar="N")] = 0,
    min_documents: Annotated[int, typer.Option(help="Fewest reviewed documents to train on", metavar="N", min=1)] = 4,
    pages_per_request: Annotated[int, typer.Option(help="As docpipe run's: longer documents are read page by page, and are left out of training", metavar="N", min=1)] = 4,
) -> None:
    """Learn from corrections: train a LoRA adapter of BASE's language model on OUT's documents of
    SCHEMA that reviewers marked done (each example: the request docpipe sends, and the approved
    answer), then score the base model and the adapter on those held out. Use it with `docpipe run
    --adapter FOLDER`, or serve it: `docpipe serve-model BASE --lora NAME=FOLDER`."""
    from docpipe import __version__
    from docpipe.core.errors import ModelNotAvailable
    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.inprocess.lora import LoraOptions, TrainingRefused, train
    from docpipe.output.schema_store import resolve
    from docpipe.run.adapters import Manifest, hub_revision, write_manifest
    from docpipe.run.config import RunConfig
    from docpipe.run.tasks.extraction import Extraction
    from docpipe.tune.examples import build, split

    console = Console()
    try:
        spec = resolve(schema, out, reading=True)
        choice = resolve_model(model)
    except (ValueError, ModelNotAvailable) as exc:
        fail(str(exc))
    config = RunConfig(input=out, out=out, schemas=(schema,), model=choice.spec, pages_per_request=pages_per_request)
    with console.status("drawing the reviewed documents' pages"):
        found = build(out, spec, config)
    for name, why in found.left_out.items():
        console.print(f"[yellow]left out: {name}: {why}[/yellow]")
    if len(found.examples) < min_documents:
        fail(f"{len(found.examples)} reviewed {spec.name} documents can be trained on in {out} ({found.reviewed} marked "
             f"done, {len(found.left_out)} left out); finetune needs at least {min_documents} (--min-documents): "
             f"review more with `docpipe review {out}` and mark each document done")
    training, held = split(found.examples, held_out, seed)
    console.print(f"training on {len(training)} reviewed {spec.name} documents, {len(held)} held out; "
                  f"base model {choice.spec}")
    options = LoraOptions(rank=rank, alpha=alpha, epochs=epochs, learning_rate=learning_rate, seed=seed)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                   TimeRemainingColumn(), console=console)
    with bar:
        task = bar.add_task("training", total=epochs * len(training), loss="-")
        try:
            trained = train(choice, [(e.request, e.target) for e in training], options, adapter_out,
                            on_step=lambda step, steps, loss: bar.update(task, completed=step, loss=f"{loss:.4f}"))
        except TrainingRefused as exc:
            fail(str(exc))
    if not trained.losses:
        fail("stopped before the first epoch ended: no adapter was saved")
    manifest = Manifest(
        base_model=choice.spec, base_revision=hub_revision(choice.path), schema=spec.name, schema_version=spec.version,
        prompt_version=Extraction(spec, config).prompt_version, budgets=sorted({e.budget for e in training}),
        trained_on=sorted(e.name for e in training), held_out=sorted(e.name for e in held),
        hyperparameters={"rank": rank, "alpha": alpha, "epochs": epochs, "learning_rate": learning_rate, "seed": seed,
                         "dropout": options.dropout, "target_modules": "language model attention and dense MLP"},
        losses=[round(v, 6) for v in trained.losses], docpipe_version=__version__,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), stopped_early=trained.stopped_early,
        extra={"first_loss": trained.first_loss, "steps": trained.steps, "seconds": round(trained.seconds, 1)},
    )
    write_manifest(adapter_out, manifest)
    said = "stopped (Ctrl-C): the last finished epoch's adapter" if trained.stopped_early else "adapter"
    console.print(f"{said} in [bold]{adapter_out}[/bold]: loss by epoch "
                  + ", ".join(f"{v:.4f}" for v in trained.losses) + f" ({trained.seconds:.1f} s)")
    if not held:
        console.print("no document was held out (--held-out 0): not scored; `docpipe eval` scores runs with the adapter")
        return
    _before_and_after(console, out, spec, schema, [e.name for e in held], choice.spec, adapter_out)


def _before_and_after(console: Console, out: Path, spec, schema: str, names: list[str], model: str, adapter: Path) -> None:
    from docpipe.cli.summary import print_frame
    from docpipe.tune.measure import before_and_after

    with tempfile.TemporaryDirectory(prefix="docpipe-finetune-") as work, console.status(
            f"reading the {len(names)} held-out documents with the base model and with the adapter"):
        comparison = before_and_after(out, spec, schema, names, model, adapter, Path(work), {})
    table = comparison.table.drop(columns=["out"], errors="ignore").round(3)
    table.insert(0, "read with", ["base model", "adapter"][: len(table)])
    print_frame(console, table, title=f"{spec.name}: held-out reviewed documents, base model and adapter",
                limit=len(table))
