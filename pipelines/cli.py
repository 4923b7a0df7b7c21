"""The `tierlens` command line: sample, ingest, build, kpis, export, dashboard, demo.

Each command is a thin shell over one module; failures the user can fix are
printed as one clear message with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar, cast

import typer
from rich.console import Console
from rich.text import Text

from pipelines.db import DEFAULT_DB
from pipelines.environment import check_environment
from pipelines.errors import ConfigError, TierlensError

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.report.build import Format


class Program(typer.Typer):
    """The `tierlens` program, run once per process (the console script and
    `python -m pipelines.cli` call it; CliRunner does not).

    Start-up makes a few hundred thousand objects that live as long as the process
    (modules, classes, functions of typer, pydantic, duckdb, polars), which the
    garbage collector would walk again and again while they are made, and once more
    at exit: about 0.1 s of a 0.4 s `tierlens kpis`. So it does not collect until the
    command starts (`collect_from_here`), and exits without that last walk
    (gc.freeze): objects left in reference cycles at exit are not finalized, their
    memory goes back to the system with the process (Python never promised more at
    exit: a command closes its connections and files itself)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        gc.disable()
        try:
            return super().__call__(*args, **kwargs)
        finally:
            gc.freeze()


def collect_from_here() -> None:
    """Collect garbage from now on, and never walk the objects made so far (the
    start-up's); in a process not started by `Program` (a test's CliRunner), nothing."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


app = Program(add_completion=False, no_args_is_help=True, help=__doc__)
metrics_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="The KPI catalogue (the metric layer)."
)
app.add_typer(metrics_app, name="metrics")
# Names from the data are printed as they are: no :emoji: codes (and, in say(), no markup).
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

P = ParamSpec("P")
R = TypeVar("R")

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB database file")]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="tierlens.toml (default: ./tierlens.toml if present)"),
]


def say(message: str, *, to: Console = console) -> None:
    """Print a line that may hold names from the data or the command line as plain
    text: never read as rich markup."""
    to.print(message, markup=False, highlight=False, soft_wrap=True)


def _config_file(path: Path | None) -> Path:
    """The configuration file: --config, else ./tierlens.toml (which may not exist)."""
    from pipelines.environment import DEFAULT_CONFIG_NAME

    return Path(DEFAULT_CONFIG_NAME) if path is None else path


def _config(path: Path | None) -> Config:
    """The configuration (--config, else ./tierlens.toml if present, else defaults)."""
    from pipelines.config import load_config

    given = _config_file(path)
    if given.is_dir():  # load_config would fail reading it
        raise ConfigError(f"{given}: a folder, not a configuration file (tierlens.toml)")
    return load_config(path)


def _output(path: Path, *, folder: bool = False) -> Path:
    """`path`, if a file (or with `folder`, a folder) can be written there: an
    existing folder where a file is meant, or a file on the way, is refused."""
    what = "folder" if folder else "file"
    if path.exists() and path.is_dir() != folder:
        kind = "folder" if path.is_dir() else "file"
        raise TierlensError(f"{path}: is a {kind}; give the {what} to write instead")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise TierlensError(f"{path}: {parent} is a file, not a folder")
            break
    return path


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Check the TIERLENS_* environment, then run the command; the errors a user can
    fix become one message (as text: it may quote their data) and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        collect_from_here()
        try:
            check_environment()
            return func(*args, **kwargs)
        except (TierlensError, ConfigError) as exc:
            err_console.print(
                Text.assemble(("error:", "bold red"), " ", str(exc)),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None

    return wrapper


@app.command()
@friendly
def sample(
    tickets: Annotated[int, typer.Option(help="number of tickets")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("sample_data"),
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
) -> None:
    """Generate a realistic MSP month of tickets and events, with the planted rates."""
    from pipelines.sample.generator import write_sample

    planted = write_sample(_output(out, folder=True), n_tickets=tickets, seed=seed, fmt=fmt)
    say(f"wrote {planted['n_tickets']} tickets and {planted['n_events']} events to {out}/")


@app.command()
@friendly
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders to load")],
    db: DbOption = Path(DEFAULT_DB),
    source: Annotated[str | None, typer.Option(help="name of the source system")] = None,
    kind: Annotated[str | None, typer.Option(help="tickets or events (default: detected)")] = None,
    strict: Annotated[bool, typer.Option(help="exit non-zero if any row is rejected")] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="canonical (default), servicenow-audit, servicenow-incident, zendesk, "
            "eventlog or mapped (with --mapping); see docs/adapters.md",
        ),
    ] = "canonical",
    config: ConfigOption = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="mapping file (TOML) for --format mapped; see mappings/"),
    ] = None,
) -> None:
    """Load ticket and event exports into the database, as one all-or-nothing batch."""
    from pipelines.ingest.job import run_ingest
    from pipelines.ingest.report import print_ingest_report

    if mapping is not None and fmt == "canonical":
        fmt = "mapped"  # --mapping alone means --format mapped
    result = run_ingest(
        paths,
        db_path=db,
        config=_config(config),
        source=source or fmt,
        kind=kind,
        fmt=fmt,
        mapping=mapping,
    )
    print_ingest_report(result, console)
    if strict and result.rows_rejected:
        err_console.print(
            Text.assemble(("strict:", "bold red"), f" {result.rows_rejected} rows rejected")
        )
        raise typer.Exit(1)


@app.command()
@friendly
def build(
    db: DbOption = Path(DEFAULT_DB),
    config: ConfigOption = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="rebuild every ticket (by default: those changed since the last build)"
        ),
    ] = False,
) -> None:
    """Run the SQL models and their data tests; publish only if all pass. Only the
    tickets changed since the last build are recomputed, when that gives the same
    tables (it says when it cannot, and why); --full recomputes everything."""
    from pipelines.models.runner import run_build

    summary = run_build(db, _config(config), console=console, full=full)
    say(
        f"build {summary.build_id}: {summary.models} models, {summary.tests} tests passed "
        f"({summary.mode}); "
        f"{summary.resolved_tickets:,} resolved tickets in the KPIs, "
        f"{summary.open_tickets:,} open (backlog)"
    )
    if summary.resolved_tickets + summary.open_tickets == 0:
        err_console.print(
            Text.assemble(
                ("note:", "yellow"),
                f" no tickets loaded yet: `tierlens ingest EXPORTS --db {db}`, then build again",
            ),
            highlight=False,
        )


# config table written at build time -> the part of tierlens.toml it comes from
# (config.metrics and config.metric_facts come from the code, not from the file;
# config.calendar_intervals from [calendars] and the data's dates);
# config.settings holds one value per column, each from its own key
CONFIG_SOURCES: dict[str, str] = {
    "tier_rules": "tier_map",
    "status_map": "status_map",
    "targets": "targets",
    "l1_scope": "escalation",
    "late_escalation_thresholds": "escalation",
    "pickup_targets": "escalation",
    "note_sections": "escalation",
    "first_contact_statuses": "escalation",
    "calendars": "calendars",
    "calendar_rules": "calendar_map",
    "clocks": "clocks",
    "pause_statuses": "clocks",
}
SETTINGS_SOURCES: dict[str, str] = {
    "reporting_timezone": "reporting_timezone",
    "week_start_offset": "week_start",
    "min_sample": "min_sample",
    "quick_fix_minutes": "escalation",
    "early_escalation_minutes": "escalation",
    "default_partner": "ingest.default_partner",
    "min_gap": "comparison.min_gap",
}


def config_drift(db: Path, config: Config) -> tuple[int, list[str]]:
    """(build id, the parts of `config` whose build-time tables differ from those of the
    published build): `tierlens kpis` shows the build's, so a difference in the file
    applies only at the next `tierlens build`."""
    import duckdb

    from pipelines.models.seeds import write_seeds
    from pipelines.serving import open_snapshot

    fresh = duckdb.connect()
    con, pointer = open_snapshot(db)
    try:
        write_seeds(fresh, config)
        queries = [(f"select * from config.{t}", part) for t, part in CONFIG_SOURCES.items()]
        queries += [(f"select {c} from config.settings", k) for c, k in SETTINGS_SOURCES.items()]
        differ: list[str] = []
        for sql, part in queries:
            try:
                built = con.execute(sql).fetchall()
            except duckdb.Error:  # a build by a Tierlens without this table or column
                continue
            if sorted(built, key=repr) != sorted(fresh.execute(sql).fetchall(), key=repr):
                differ.append(part)
        return pointer.build_id, sorted(set(differ))
    finally:
        con.close()
        fresh.close()


@app.command()
@friendly
def kpis(
    db: DbOption = Path(DEFAULT_DB),
    by: Annotated[
        str | None,
        typer.Option(
            help="comma-separated: partner, client, group, agent, category, priority, week"
        ),
    ] = None,
    since: Annotated[str | None, typer.Option(help="first week to include (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="last day to include (YYYY-MM-DD)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="tierlens.toml (default: ./tierlens.toml if present) to compare with the "
            "build's: targets and rules apply at `tierlens build`",
        ),
    ] = None,
) -> None:
    """Print the KPI table: one row per group and metric, with the targets and rules of
    the published build (a tierlens.toml that differs is named on stderr)."""
    from pipelines.kpis import kpi_rows, print_missing_kpis, render_kpis

    given = _config_file(config)
    # read (and checked) when there is one: the figures are the build's either way
    settings = _config(config) if config is not None or given.exists() else None
    table = kpi_rows(db, by=by, since=since, until=until)
    render_kpis(table, fmt, console)
    print_missing_kpis(db, table, console if fmt == "table" else err_console)
    build_id, differ = (
        config_drift(db, settings) if settings is not None and given.is_file() else (0, [])
    )
    if differ:
        say(
            f"{given}: its {', '.join(differ)} differ from those of the published build "
            f"{build_id}, whose figures and statuses are shown; run `tierlens build` to "
            "apply them",
            to=err_console,
        )


@app.command()
@friendly
def export(
    out: Annotated[Path, typer.Argument(help="output file")],
    db: DbOption = Path(DEFAULT_DB),
    by: Annotated[str | None, typer.Option(help="grouping, as for `kpis`")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    config: ConfigOption = None,
) -> None:
    """Write the KPI table to a Parquet or CSV file."""
    from pipelines.kpis import export_kpis

    n = export_kpis(db, _config(config), _output(out), by=by, fmt=fmt)
    say(f"wrote {n} KPI rows to {out}")


@metrics_app.command("list")
@friendly
def metrics_list() -> None:
    """Every KPI: name, label, statistic and unit, default target."""
    from pipelines.metrics.catalogue import print_catalogue

    print_catalogue(console)


@metrics_app.command("generate")
@friendly
def metrics_generate(
    check: Annotated[
        bool, typer.Option("--check", help="change nothing; exit 1 if a file is out of date")
    ] = False,
) -> None:
    """Write the files generated from pipelines/metrics/registry.py: the kpi_facts,
    kpi_fact_cells and kpi_weekly models and the catalogue table of docs/metrics.md."""
    from pipelines.metrics.catalogue import PROJECT, generate

    changed = generate(check=check)
    for path in changed:
        say(f"{'out of date' if check else 'wrote'}: {path.relative_to(PROJECT).as_posix()}")
    if check and changed:
        raise typer.Exit(1)
    if not changed:
        say("up to date")


@app.command()
@friendly
def reconcile(
    db: DbOption = Path(DEFAULT_DB),
    examples: Annotated[int, typer.Option(help="disagreeing tickets shown per counter")] = 5,
) -> None:
    """Data quality: source counters vs derived ones, unmapped groups, unknown statuses."""
    from pipelines.reconcile import print_data_quality

    if examples < 0:
        raise TierlensError(f"--examples {examples}: give 0 or more")
    print_data_quality(db, console, n_examples=examples)


@app.command()
@friendly
def dashboard(
    db: DbOption = Path(DEFAULT_DB),
    port: Annotated[int, typer.Option(help="port to serve on")] = 8501,
    address: Annotated[
        str,
        typer.Option(
            help="address to listen on; beyond this machine (0.0.0.0, a LAN address) "
            "needs logins configured (docs/deployment.md)"
        ),
    ] = "127.0.0.1",
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="serve a non-loopback --address with no login (prints a warning)"
        ),
    ] = False,
    secrets: Annotated[
        Path | None,
        typer.Option(
            help="Streamlit secrets file with the [auth] section (default: "
            ".streamlit/secrets.toml here, then in your home folder)"
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the Streamlit dashboard on the built database (until stopped: Ctrl-C or
    SIGTERM stop the server too). It listens on this machine only unless --address
    says otherwise; with logins configured, each person sees only their scope."""
    from pipelines.serve import check_exposure, serve_dashboard

    settings = _config(config)
    exposure = check_exposure(address, settings.access, secrets, insecure=insecure)
    for warning in exposure.warnings:
        say(f"warning: {warning}", to=err_console)
    given = _config_file(config)

    def stopping(sig: signal.Signals) -> None:
        say(f"{sig.name}: stopping the dashboard", to=err_console)

    sys.exit(
        serve_dashboard(
            db,
            port,
            address=address,
            config=given if given.is_file() else None,
            secrets=exposure.login.path if exposure.login else None,
            on_stop=stopping,
        )
    )


@app.command()
@friendly
def demo(
    db: DbOption = Path(DEFAULT_DB),
    serve: Annotated[bool, typer.Option(help="serve the dashboard at the end")] = True,
    port: Annotated[int, typer.Option(help="dashboard port")] = 8501,
) -> None:
    """Generate the sample, ingest it, build the models, print the KPIs, serve the dashboard."""
    from pipelines.demo import run_demo
    from pipelines.serve import check_port

    if serve:
        check_port(port)  # before the demo's minute of work, not after

    run_demo(db, serve=serve, port=port, console=console)


@app.command()
@friendly
def report(
    week: Annotated[
        str | None,
        typer.Option(help="YYYY-MM-DD (any day of it) or YYYY-Www; default: last complete"),
    ] = None,
    partner: Annotated[
        str | None,
        typer.Option(help="a partner's report: its figures only, no other partner named"),
    ] = None,
    client: Annotated[
        str | None,
        typer.Option(help="a client's report: its tickets only, agents as pseudonyms"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="file to write (default: reports/tierlens-YYYY-Www.html)"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf (needs Chromium)")] = "html",
    clock: Annotated[
        str, typer.Option(help="durations on the wall clock or in business hours: wall, business")
    ] = "wall",
    agents: Annotated[
        bool, typer.Option("--agents", help="name the agents in the action list (coaching)")
    ] = False,
    db: DbOption = Path(DEFAULT_DB),
    config: ConfigOption = None,
) -> None:
    """Write the weekly scorecard as one self-contained HTML (or PDF) file."""
    from pipelines.report.build import write_report

    if fmt == "pdf":
        from pipelines.chromium import CHROMIUM
        from pipelines.environment import check_chromium

        check_chromium(CHROMIUM)
    # any text: write_report refuses a format other than html or pdf with a message
    result = write_report(
        db,
        _week(week),
        partner=partner,
        client=client,
        access=_config(config).access,
        agents=agents,
        out=out and _output(out),
        fmt=cast("Format", fmt),
        clock=clock,
    )
    say(
        f"wrote the report for the week of {result.week} (build {result.build_id}) to {result.path}"
    )


access_app = typer.Typer(
    no_args_is_help=True,
    help="Logins and scopes: the pseudonym key, who sees what, the access log.",
)
app.add_typer(access_app, name="access")


@access_app.command("new-key")
@friendly
def access_new_key(
    path: Annotated[Path, typer.Argument(help="file to create (never overwritten)")],
) -> None:
    """Write a random key for agent pseudonyms ([access] pseudonym_key_file)."""
    from pipelines.access.cli import write_key

    write_key(path, console)


@access_app.command("who")
@friendly
def access_who(
    email: Annotated[str | None, typer.Argument(help="the email the provider sends")] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="a group claim value (repeatable)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """The scope [access] gives a person with this email and these groups."""
    from pipelines.access.cli import explain_scope

    if not explain_scope(_config(config).access, email, group or [], console):
        raise typer.Exit(1)


@access_app.command("log")
@friendly
def access_log(
    db: DbOption = Path(DEFAULT_DB),
    limit: Annotated[int, typer.Option(help="newest entries shown")] = 50,
) -> None:
    """Who signed in to the dashboard (or was refused) and the scoped reports, newest first."""
    from pipelines.access.cli import print_log

    if limit < 1:
        raise TierlensError(f"--limit {limit}: give 1 or more")
    print_log(db, console, limit)


review_app = typer.Typer(
    no_args_is_help=True, help="The weekly escalation review: samples and verdicts."
)
app.add_typer(review_app, name="review")


def _week(value: str | None) -> date | None:
    from pipelines.review.weeks import parse_week

    return parse_week(value, _config(None).week_start_offset)


@review_app.command("sample")
@friendly
def review_sample(
    week: Annotated[
        str | None,
        typer.Option(help="YYYY-MM-DD (any day of it) or YYYY-Www; default: last complete"),
    ] = None,
    partner: Annotated[str | None, typer.Option(help="only this partner's escalations")] = None,
    n: Annotated[int, typer.Option("--n", help="escalations to review")] = 25,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same sample)")] = 1,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Draw a reproducible, stratified sample of a week's escalations to review."""
    from pipelines.review.report_cli import print_sample
    from pipelines.review.sampling import create_sample

    if not 0 <= seed < 2**63:
        raise TierlensError(f"--seed {seed}: give a whole number from 0 to {2**63 - 1}")

    result = create_sample(db, _week(week), partner=partner, n=n, seed=seed)
    print_sample(result, console)


@review_app.command("estimate")
@friendly
def review_estimate(
    sample_id: Annotated[str, typer.Argument(help="the sample, as printed by `review sample`")],
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """The reviewed unnecessary-escalation rate of the sample's week, with its interval."""
    from pipelines.review.report_cli import print_estimate

    print_estimate(db, sample_id, console)


@review_app.command("export")
@friendly
def review_export(
    out: Annotated[Path, typer.Argument(help="JSON Lines file to write")],
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Write every verdict to a JSON Lines file (to carry a review to another machine)."""
    from pipelines.review.verdicts import export

    say(f"wrote {export(db, _output(out))} verdicts to {out}")


@review_app.command("import")
@friendly
def review_import(
    path: Annotated[Path, typer.Argument(help="JSON Lines file from `review export`")],
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Load verdicts exported elsewhere; verdicts already present are skipped."""
    from pipelines.review.verdicts import import_file

    read, new = import_file(db, path)
    say(f"read {read} verdicts from {path}: {new} new, {read - new} already present")


if __name__ == "__main__":  # pragma: no cover
    app()
