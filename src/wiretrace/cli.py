"""The command line: parses arguments, shows progress, calls the library."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import api
from .export import export_store
from .ingest import read_inputs
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


@app.command()
def run(
    inputs: list[Path] = typer.Argument(
        ..., help="JSONL files, .txt files or folders of .txt files."
    ),
    db: Path = typer.Option(..., "--db", help="The DuckDB store to create or extend."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write rejected records here (JSONL)."
    ),
    max_df: int = typer.Option(
        RunParams.max_df, help="Shingles in more articles than this are boilerplate."
    ),
) -> None:
    """Find reused passages, story families and who copied whom; store them in DB."""
    params = RunParams(max_df=max_df)
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
            )
        except ValueError as error:
            console.print(f"[red]stopped (--strict):[/red] {error}")
            raise typer.Exit(2) from error
    for rejection in summary.rejections[:20]:
        console.print(f"[yellow]rejected[/yellow] {rejection.origin}: {rejection.reason}")
    if len(summary.rejections) > 20:
        console.print(f"… and {len(summary.rejections) - 20} more rejections")
    if rejects is not None:
        _write_rejects(rejects, summary.rejections)
    table = Table(title=f"wiretrace run → {db}", show_header=False)
    for label, value in (
        ("records read", summary.read),
        ("stored (new)", summary.stored),
        ("already stored", summary.already_stored),
        ("rejected", summary.rejected),
        ("candidate pairs", summary.pairs),
        ("reuse links", summary.links),
        ("passages", summary.passages),
        ("families", f"{summary.families} ({summary.multi_article_families} with 2+ articles)"),
        ("time", f"{summary.seconds:.2f} s"),
    ):
        table.add_row(label, str(value))
    out.print(table)


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
) -> None:
    """Align two articles: passages side by side, containment both ways, which is the source."""
    a, b = _read_one(file_a), _read_one(file_b)
    result = api.compare(a, b)
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
        "jsonl", "--format", help="jsonl, parquet, or bench (the benchmark's answer files)."
    ),
) -> None:
    """Export articles, links and passages (JSONL or Parquet), or the benchmark answer files."""
    if fmt not in ("jsonl", "parquet", "bench"):
        console.print(f"[red]unknown format {fmt!r}[/red]: use jsonl, parquet or bench")
        raise typer.Exit(2)
    if not db.exists():
        console.print(f"[red]no store at {db}[/red]")
        raise typer.Exit(2)
    counts = export_store(db, out_dir, fmt)
    for name, count in counts.items():
        out.print(f"{name}: {count} rows")


@app.command()
def demo(
    db: Path = typer.Option(Path("out/sample.duckdb"), "--db", help="Where to write the store."),
) -> None:
    """Run on the bundled sample corpus and show what was found."""
    sample = sample_corpus_path()
    out.print(f"sample corpus: {sample}")
    run(inputs=[sample], db=db, strict=False, rejects=None, max_df=RunParams.max_df)
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


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()


if __name__ == "__main__":
    main()
