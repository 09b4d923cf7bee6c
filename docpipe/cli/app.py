"""The `docpipe` command: run a folder through the pipeline, then look at the tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from docpipe.cli.export import register as register_export
from docpipe.cli.failing import fail
from docpipe.cli.finetune import register as register_finetune
from docpipe.cli.help_option import Command, Group
from docpipe.cli.options import explain, with_run_options
from docpipe.cli.scale import register as register_scale_commands
from docpipe.cli.serve_model import serve_model
from docpipe.cli.status import register as register_status
from docpipe.run.config import RunConfig
from docpipe.run.environment import quiet_defaults

app = typer.Typer(cls=Group, add_completion=False, no_args_is_help=True, help=__doc__)


@app.command(cls=Command)
@with_run_options
def run(
    input: Annotated[Path, typer.Argument(exists=True, help=RunConfig.model_fields["input"].description, metavar="INPUT")],
    password: Annotated[list[str] | None, typer.Option(metavar="PASSWORD", help="Password for encrypted PDFs (repeatable); never written to the tables")] = None,
    password_file: Annotated[Path | None, typer.Option(metavar="FILE", exists=True, dir_okay=False, help="File with one password per line (or a TSV whose second column is the password; see docpipe/ingest/passwords.py)")] = None,
    verbose: Annotated[bool, typer.Option(help="Show Prefect and transformers logs", metavar="")] = False,
    **settings: Any,
) -> None:
    """Extract SCHEMA records (or, with --task transcribe, the text of every page) from every document
    under INPUT into Parquet tables under OUT."""
    quiet_defaults(verbose)
    from pydantic import ValidationError

    from docpipe.cli.progress_bar import BarProgress
    from docpipe.cli.summary import print_summary
    from docpipe.core.errors import ModelNotAvailable
    from docpipe.engines.factory import build_engine
    from docpipe.flows.ingest import ingest
    from docpipe.ingest.passwords import read_passwords
    from docpipe.run.tasks.choose import check_adapter, task_for

    console = Console()
    try:
        config = RunConfig(input=input, passwords=tuple(password or ()) + read_passwords(password_file), **settings)
        task = task_for(config, checked=True)  # unknown schemas; SchemaEdited: a version stored with another definition
        with console.status("resolving the model"):
            engine = build_engine(config.model, config.batch_size, **config.engine_settings())
        check_adapter(task, engine.name)  # an --adapter trained on another model, schema or prompt
    except ValidationError as exc:
        fail(explain(exc))
    except (ValueError, ModelNotAvailable) as exc:
        fail(str(exc))
    console.print(f"model: [bold]{engine.choice.spec}[/bold] ({engine.choice.why})")
    if getattr(task, "split", False) and len(task.schemas) == 1:
        console.print(f"--split with one schema: each file is cut into the {next(iter(task.schemas))} documents it holds "
                      "and pages that are none (other); give more --schema to sort several kinds")
    from docpipe.core.errors import EngineUnreachable
    from docpipe.flows.local_server import owned_server
    from docpipe.output.lease import LeaseLost

    progress = BarProgress(console)
    try:
        with owned_server():  # a temporary Prefect server dies with this process, even on SIGKILL
            result = ingest(config, engine=engine, progress=progress)
    except ModelNotAvailable as exc:
        fail(str(exc))
    except LeaseLost as exc:  # what was committed stays; the rest is for the next run
        fail(str(exc), code=1)
    except EngineUnreachable as exc:  # after --engine-retries: what was committed stays
        fail(f"{exc} (after {config.engine_retries} retries of the chunk). The documents "
             "written so far are kept; run the same command again once the server answers, and it reads the rest.", code=1)
    finally:
        progress.stop()
        engine.close()  # the served engine's connections and page files
    print_summary(console, result)
    for line in engine.notes():
        console.print(line)


@app.command(cls=Command)
def show(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of a run", metavar="OUT")],
    table: Annotated[str, typer.Argument(help="A schema name (latest record per document), transcripts (latest per page), or documents, pages, generations, errors, runs", metavar="TABLE")],
    limit: Annotated[int, typer.Option(help="Rows to show", metavar="N")] = 20,
    all_columns: Annotated[bool, typer.Option(help="Show every column, not the main ones", metavar="")] = False,
    doc: Annotated[str | None, typer.Option(
        help="One document (its path under the input folder, its file name when only one document has it, or "
             "the start of its doc_id): a schema's record whole, vertically; another table's rows about it", metavar="DOC")] = None,
) -> None:
    """Print a table of OUT (for a schema: the latest record per document, one line each, named by
    its file; --doc NAME shows one document's every value, as printed, confidence, page and box)."""
    from docpipe.cli import show_records
    from docpipe.cli.summary import brief_columns, print_frame
    from docpipe.output.reading import read_table
    from docpipe.output.tables import FIXED, record_tables

    frame = read_table(out, table, python_cells=True)
    if frame.empty:
        schemas = record_tables(out)
        known = ", ".join([*FIXED, *schemas])
        Console(stderr=True).print(f"[yellow]no rows in {table!r} under {out}; tables there: {known}[/yellow]")
        raise typer.Exit(1)
    if doc is not None and (table in FIXED or all_columns) and "doc_id" in frame.columns:
        frame = _one_document(out, frame, doc)  # documents, pages, errors, transcripts...: its rows
    if table not in FIXED and not all_columns:
        from docpipe.output.names import Ambiguous, document_names, find_one

        named = document_names(out, table)
        names = {doc_id: named[doc_id].name if doc_id in named else str(name or doc_id)
                 for doc_id, name in zip(frame["doc_id"], frame.get("name", frame["doc_id"]))}
        if doc is None:
            show_records.print_overview(Console(), table, frame, names, limit)
            return
        try:
            found = find_one({d: named[d] for d in frame["doc_id"] if d in named}, doc)
        except Ambiguous as exc:
            fail(str(exc))
        if found is None:
            fail(f"no document {doc!r} in {table}; its documents: "
                 + ", ".join(sorted(names.values())))
        rows = frame.loc[frame["doc_id"] == found.doc_id]  # a sorted file: each document it holds
        for row in rows.itertuples(index=False):
            whole = rows.loc[rows["segment"] == row.segment].iloc[0] if len(rows) > 1 else rows.iloc[0]
            show_records.print_document(Console(), table, frame, whole,
                                        found.name + show_records.pages_of(frame, row))
        return
    shown = frame if all_columns else frame[brief_columns(table, frame)]
    print_frame(Console(), shown, title=f"{table} ({len(frame)} rows)", limit=limit)


def _one_document(out: Path, frame: Any, doc: str) -> Any:
    """The rows of `frame` about the document `doc` names (exit 2 naming the candidates, or none)."""
    from docpipe.output.names import Ambiguous, document_names, find_one

    try:
        found = find_one(document_names(out), doc)
    except Ambiguous as exc:
        fail(str(exc))
    if found is None:
        fail(f"no document {doc!r} in {out}")
    return frame.loc[frame["doc_id"] == found.doc_id]


@app.command(cls=Command)
def revalidate(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of earlier runs", metavar="OUT")],
    date_order: Annotated[str, typer.Option(help=RunConfig.model_fields["date_order"].description, metavar="auto|DMY|MDY|YMD")] = "auto",
    schema: Annotated[list[str] | None, typer.Option(
        metavar="NAME|FILE", help="The schema to type the answers of that schema's name with (repeatable; default: "
                                  "the newest version OUT keeps of each, else the shipped one)")] = None,
) -> None:
    """Rebuild the records of OUT from its stored answers, with the current schemas and typing
    rules (no model)."""
    from pydantic import TypeAdapter, ValidationError
    from rich.table import Table

    from docpipe.output.schema_store import resolve
    from docpipe.run.revalidate import revalidate as rebuild

    try:
        order = TypeAdapter(RunConfig.model_fields["date_order"].annotation).validate_python(date_order)
    except ValidationError:
        fail(f"--date-order: one of auto, DMY, MDY, YMD, got {date_order!r}")
    try:
        result = rebuild(out, date_order=order, schemas=[resolve(s, out) for s in schema or ()])
    except ValueError as exc:
        fail(str(exc))
    table = Table(title="records rebuilt from stored answers", title_justify="left")
    table.add_column("schema")
    table.add_column("records", justify="right")
    table.add_column("valid", justify="right")
    for name, count in result.records.items():
        table.add_row(name, str(count), str(result.valid[name]))
    console = Console()
    console.print(table)
    console.print(f"appended as run {result.run_id}; readers now see these records as the latest")


@app.command("eval", cls=Command)
def eval_(
    out: Annotated[list[Path], typer.Argument(exists=True, file_okay=False, help="Output folder of a run (several with --compare)")],
    truth: Annotated[Path, typer.Option(exists=True, help="Labels: a JSON file (samples/ground_truth.json) or a folder of one JSON per document (docpipe, SROIE, FUNSD .kv.json, invoice2data)", metavar="FILE")],
    schema: Annotated[list[str] | None, typer.Option(help="A schema whose records are scored (repeatable; default: every schema with records in OUT)", metavar="SCHEMA")] = None,
    compare: Annotated[bool, typer.Option(help="Put the output folders side by side with their cost, and plot accuracy against it", metavar="")] = False,
    report: Annotated[Path | None, typer.Option(help="Folder for the Parquet report (default OUT/eval/SCHEMA, or OUT/eval/SCHEMA/compare with --compare)", metavar="FOLDER")] = None,
    plot: Annotated[Path | None, typer.Option(help="--compare: where to save the PNG (default REPORT/accuracy_for_cost.png)", metavar="FILE")] = None,
) -> None:
    """Score the latest SCHEMA records of OUT against labelled documents: per field and overall;
    for a sorted folder (several --schema, --split) also its classes and where it cut packets."""
    from docpipe.output.tables import record_tables

    if len(out) > 1 and not compare:
        fail("several output folders need --compare")
    schemas = list(dict.fromkeys(schema or record_tables(out[0])))
    if not schemas:
        fail(f"no records in {out[0]}: name the schema to score with --schema")
    if compare and len(schemas) > 1:
        fail("--compare scores one schema: give one --schema")
    for name in schemas:
        _eval_schema(out, truth, name, compare, report if len(schemas) == 1 else None, plot, alone=len(schemas) == 1)
    if not compare:
        _eval_sorting(out[0], truth)


def _eval_sorting(out: Path, truth: Path) -> None:
    """The classes and segments of a sorted folder against the labels (nothing when OUT was not sorted)."""
    from docpipe.cli.summary import print_frame
    from docpipe.eval.report import default_report_dir
    from docpipe.eval.sorting import score_sorting

    try:
        scored = score_sorting(out, truth)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    if scored is None:
        return
    console = Console()
    if not scored.documents:
        console.print(f"[yellow]sorting: no labelled document with a class among the files {out} sorted[/yellow]")
        return
    console.print(f"[bold]sorting: {scored.documents} labelled documents in {scored.files} files[/bold]")
    shown = scored.summary()
    shown["value"] = [f"{v:.3f}" if isinstance(v, float) else "-" if v is None else str(v) for v in shown["value"].astype(object)]
    print_frame(console, shown, title=None, limit=10)
    confusion = scored.confusion.reset_index()
    console.print("classes: labelled (rows) and predicted (columns)")
    print_frame(console, confusion, title=None, limit=len(confusion))
    wrong = scored.details[~scored.details["class_right"] | ~scored.details["exact"]]
    if len(wrong):
        shown = wrong.drop(columns=["doc_id"])
        print_frame(console, shown, title="documents classed or cut wrong", limit=20)
    folder = default_report_dir(out, "segments")
    folder.mkdir(parents=True, exist_ok=True)
    scored.summary().to_parquet(folder / "summary.parquet")
    scored.details.to_parquet(folder / "details.parquet")
    scored.confusion.to_parquet(folder / "confusion.parquet")
    console.print(f"sorting report in {folder}")


def _eval_schema(out: list[Path], truth: Path, schema: str, compare: bool, report: Path | None,
                 plot: Path | None, alone: bool) -> None:
    from docpipe.cli.summary import print_frame
    from docpipe.eval.compare import COMPARISON
    from docpipe.eval.compare import compare as compare_outs
    from docpipe.eval.compare import plot as plot_comparison
    from docpipe.eval.report import default_report_dir, evaluate, write_frame, write_report

    console, err = Console(), Console(stderr=True)
    try:
        if compare:
            result = compare_outs(out, truth, schema)
        else:
            result = evaluate(out[0], truth, schema)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    schema = result.schema  # its name, however it was given (a name or a file)
    if compare:
        folder = report or default_report_dir(out[0], schema) / "compare"
        shown = result.table.drop(columns=["out"]).round(3)
        print_frame(console, shown, title=f"{schema}: the same labelled documents, side by side", limit=len(shown))
        table_path = write_frame(result.table, COMPARISON, folder / "comparison.parquet")
        png = plot_comparison(result.table, plot or folder / "accuracy_for_cost.png", title=f"{schema}: accuracy for cost")
        console.print(f"comparison in {table_path}; plot in {png}")
        return
    if result.details.empty:
        err.print(f"[yellow]no labelled {schema} document found in {out[0]}[/yellow]"
                  f" ({len(result.unmatched)} labels without a document, {len(result.ambiguous)} naming files in "
                  f"several folders, {result.other_schema} for other schemas)")
        if alone:
            raise typer.Exit(1)
        return
    shown = result.summary.drop(columns=["schema", "evaluated_at"]).round(3)
    print_frame(console, shown, title=f"{schema}: {result.documents} labelled documents", limit=len(shown))
    if result.coverage:
        console.print(result.coverage)
    if result.unmatched:
        console.print(f"{len(result.unmatched)} labels have no document in {out[0]}: "
                      + ", ".join(t.label for t in result.unmatched[:5]) + (" ..." if len(result.unmatched) > 5 else ""))
    for truth, names in result.ambiguous:
        console.print(f"[yellow]label {truth.key!r} ({truth.source}) names files in several folders: "
                      f"{', '.join(names)}; not scored: key it by its path under the input folder[/yellow]")
    summary_path, details_path = write_report(result, report or default_report_dir(out[0], schema))
    console.print(f"report in {summary_path} and {details_path}")


@app.command(cls=Command)
def review(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of a run", metavar="OUT")],
    schema: Annotated[list[str] | None, typer.Option(
        metavar="NAME|FILE", help="A schema to review: a name, or your own schema file (repeatable; default: "
                                  "every schema with records in OUT, the first one shown first)")] = None,
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="Address to listen on (default: this machine only)")] = "127.0.0.1",
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote", help="Listen on an address other machines reach (--host); the token is still required", metavar="")] = False,
    port: Annotated[int, typer.Option(metavar="PORT", help="Port (0: a free one)")] = 0,
    reviewer: Annotated[str | None, typer.Option(metavar="NAME", help="Who reviews, written with each correction (default: $USER)")] = None,
    sample: Annotated[int, typer.Option(metavar="N", help="Queue N documents drawn at random among confident ones (the 'random sample' queue), so calibration sees confident values too")] = 0,
    sample_above: Annotated[float, typer.Option(metavar="CONFIDENCE", help="--sample draws among documents whose least certain value is at least this")] = 0.8,
    doc: Annotated[str | None, typer.Option(metavar="NAME", help="Open at this document: its path under the input "
                                                                  "folder, or its file name when only one document has it")] = None,
) -> None:
    """A local web page to check a run's values on their pages, least certain first, and correct
    them; corrections go to OUT's corrections table (read_table(..., corrected=True) applies them;
    `docpipe eval --truth OUT` scores another run against the reviewed values; `docpipe calibration
    OUT` says how far confidence can be trusted). It prints its address once, with a token; Ctrl-C stops it."""
    import getpass
    import ipaddress
    import socket

    from docpipe.cli.announced_server import serve_announced
    from docpipe.core.child_server import free_port
    from docpipe.output.schema_store import resolve
    from docpipe.output.tables import record_tables
    from docpipe.review.app import build_review, review_app
    from docpipe.review.guard import loopback_hosts, new_token

    err = Console(stderr=True)
    found = record_tables(out)
    if not found and not (out / "segments").is_dir():
        fail(f"no records under {out}: review a folder written by `docpipe run`")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_remote:
        fail(f"--host {host} lets other machines reach the page (and every record and page "
             "image of OUT); add --allow-remote to mean it (the token is still required), or leave --host out")
    try:
        given = [resolve(s, out) for s in schema or ()]
    except ValueError as exc:
        fail(str(exc))
    missing = [s.name for s in given if s.name not in found]
    if missing:
        fail(f"no records of schema {missing[0]!r} in {out}: its schemas are {', '.join(found)}")
    chosen = {s.name: s for s in given}
    for name in found:
        if name in chosen:
            continue
        try:
            chosen[name] = resolve(name, out)  # the definition the folder keeps, else the shipped one
        except ValueError:
            err.print(f"[yellow]{name}: not a built-in schema; to review its records, give its file: "
                      f"--schema path/to/{name}.yaml[/yellow]")
    if not chosen and found:
        raise typer.Exit(2)
    token, csrf = new_token(), new_token()
    port = port or free_port()
    who = reviewer or getpass.getuser()
    review_state = build_review(out, list(chosen.values()), who, csrf)
    console = Console()
    with console.status("reading the queue"):
        for name, backlog in review_state.backlogs.items():
            backlog.frame()
            if sample:
                drawn = backlog.draw_sample(sample, sample_above)
                console.print(f"{name}: {len(drawn)} documents drawn at random (least certain value >= "
                              f"{sample_above:g}) into the 'random sample' queue")
    shown_host = host if host not in ("0.0.0.0", "::") else socket.gethostname()
    start = "/" if doc is None else _review_path(out, list(chosen), doc, err)

    def announce() -> None:
        console.print(f"reviewing {', '.join(chosen)} records of {out} as {who}. "
                      "Open (the token is for this start only):")
        console.print(f"  http://{shown_host}:{port}{start}?token={token}", soft_wrap=True, highlight=False)
        console.print("Ctrl-C stops it.")

    hosts = loopback_hosts(port) if loopback else None
    serve_announced(review_app(review_state, token, f"docpipe-review-{port}", hosts), host, port, announce)


def _review_path(out: Path, schemas: list[str], doc: str, err: Console) -> str:
    """The review page's address of the document `doc` names, in the first schema that has it."""
    from docpipe.output.names import Ambiguous, document_names, find_one

    for schema in schemas:
        try:
            found = find_one(document_names(out, schema), doc)
        except Ambiguous as exc:
            fail(str(exc))
        if found is not None:
            return f"/{schema}/doc/{found.doc_id}"
    fail(f"no document {doc!r} among the {', '.join(schemas)} records of {out}")


@app.command(cls=Command)
def calibration(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of a reviewed run", metavar="OUT")],
    schema: Annotated[str | None, typer.Option(metavar="NAME|FILE", help="The schema (default: the only one in OUT)")] = None,
    report: Annotated[Path | None, typer.Option(metavar="FOLDER", help="Where to write the tables and the plot (default OUT/eval/SCHEMA)")] = None,
) -> None:
    """How far the model's confidence can be trusted, from the values reviewers accepted or
    corrected: the share right per confidence bin, and for each threshold the estimated error rate
    of the values nobody reviewed, with its interval. Written as Parquet and a PNG."""
    from docpipe.cli.summary import print_frame
    from docpipe.eval.calibration import BINS, THRESHOLDS, plot
    from docpipe.eval.calibration import calibration as calibrate
    from docpipe.eval.report import default_report_dir, write_frame
    from docpipe.output.schema_store import resolve
    from docpipe.output.tables import record_tables

    console = Console()
    found = record_tables(out)
    name = schema or (found[0] if len(found) == 1 else None)
    if name is None:
        fail(f"{out} holds records of {', '.join(found) or 'no schema'}: give --schema")
    try:
        spec = resolve(name, out)
        result = calibrate(out, spec)
    except ValueError as exc:
        fail(str(exc))
    print_frame(console, result.bins.drop(columns=["low", "high"]).round(3),
                title=f"{spec.name}: reviewed values by confidence", limit=len(result.bins))
    print_frame(console, result.thresholds.round(4), title="values nobody reviewed, at or above each threshold",
                limit=len(result.thresholds))
    for note in result.notes:
        console.print(note)
    folder = report or default_report_dir(out, spec.name)
    write_frame(result.bins, BINS, folder / "calibration_bins.parquet")
    write_frame(result.thresholds, THRESHOLDS, folder / "calibration_thresholds.parquet")
    png = plot(result, folder / "calibration.png")
    console.print(f"tables in {folder}/calibration_bins.parquet and calibration_thresholds.parquet; plot in {png}")


schemas_app = typer.Typer(cls=Group, help="The schemas: list them, or check your own schema file.", no_args_is_help=False)


@schemas_app.callback(invoke_without_command=True)
def schemas(ctx: typer.Context) -> None:
    """List the built-in schemas with their fields (`docpipe schemas check FILE` checks your own)."""
    if ctx.invoked_subcommand is not None:
        return
    from docpipe.schema.load import available_schemas, resolve_schema

    console = Console()
    for name in available_schemas():
        spec = resolve_schema(name)
        console.print(f"[bold]{spec.key}[/bold]: " + ", ".join(f.name for f in spec.fields))


@schemas_app.command("check", cls=Command)
def schemas_check(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A schema file (YAML)")],
) -> None:
    """Read a schema file strictly and print what docpipe makes of it, without a model: the
    instructions the model reads, the JSON schema its answers are held to (docpipe's patterns for
    money, dates and numbers named, not written out), and the columns of its records table."""
    import json

    from docpipe.cli.schema_check import grammar_problem, shown_json_schema
    from docpipe.output.tables import records_schema
    from docpipe.schema.load import load_schema
    from docpipe.schema.prompt import ask, build_prompt

    console = Console()
    try:
        spec = load_schema(file)
    except ValueError as exc:
        fail(str(exc), highlight=False)
    problem = grammar_problem(spec)
    if problem:
        fail(f"{file}: the grammar that constrains answers cannot be built: {problem}",
             highlight=False)
    console.rule(f"{spec.key}: the instructions (system turn), then the ask after the page images")
    console.print(build_prompt(spec), markup=False, highlight=False, soft_wrap=True)
    console.print(ask(1), markup=False, highlight=False, soft_wrap=True)
    console.rule("the JSON schema answers are constrained to")
    console.print(json.dumps(shown_json_schema(spec), indent=1, ensure_ascii=False), markup=False, highlight=False,
                  soft_wrap=True)
    console.rule(f"the columns of records/{spec.name}")
    console.print(str(records_schema(spec)), markup=False, highlight=False, soft_wrap=True)
    console.print(f"[green]{file}: {spec.key} is a valid schema ({len(spec.fields)} fields)[/green]")


app.add_typer(schemas_app, name="schemas")
register_export(app)  # export (cli/export.py)
register_status(app)  # status (cli/status.py)
register_finetune(app)  # finetune (cli/finetune.py)
register_scale_commands(app)  # serve, deploy, submit, compact (cli/scale.py)
app.command("serve-model", cls=Command)(serve_model)


def main() -> None:
    app()
