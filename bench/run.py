"""Benchmark runner: discovers bench/benchmarks/*.py, runs them, writes bench/results/latest.{json,md}.

    .venv/bin/python -m bench.run                     # every benchmark
    .venv/bin/python -m bench.run --only cold_start   # some of them (repeatable, or several names)
    .venv/bin/python -m bench.run --quick             # fewer repetitions, for a smoke run
    .venv/bin/python -m bench.run --list              # names and descriptions

Run it from the repository root. `make bench` exports DATABASE_URL / REDIS_URL when PostgreSQL and
Redis answer on 127.0.0.1; benchmarks that need them skip those parts otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import pkgutil
import platform
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_SEED = 20240601
MEASUREMENT_KEYS = {"name", "value", "unit", "target", "notes"}
TARGET_PATTERN = re.compile(r"^\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda value, bound: value < bound,
    "<=": lambda value, bound: value <= bound,
    ">": lambda value, bound: value > bound,
    ">=": lambda value, bound: value >= bound,
}


@dataclass(frozen=True)
class EnvInfo:
    """The services this run may use. None means "not available": skip what needs it."""

    database_url: str | None  # PostgreSQL (postgres:// or postgresql://), from DATABASE_URL
    redis_url: str | None  # from REDIS_URL
    python: str  # the interpreter running the benchmarks; use it for subprocesses

    @property
    def postgresql(self) -> bool:
        return bool(self.database_url) and self.database_url.split(":", 1)[0] in {"postgres", "postgresql"}


@dataclass
class Context:
    """What a benchmark's run(ctx) gets. tmp_dir is empty at the start and removed afterwards."""

    rng: random.Random  # seeded: generate data from this, never from `random` directly
    seed: int
    quick: bool  # fewer repetitions / smaller data; same measurements
    repo_root: Path
    tmp_dir: Path
    env: EnvInfo
    messages: list[str] = field(default_factory=list)

    def log(self, message: str) -> None:
        """Progress line on stderr (stdout stays free for the summary)."""
        self.messages.append(message)
        print(f"  . {message}", file=sys.stderr, flush=True)

    def subprocess_env(self, **overrides: str | None) -> dict[str, str]:
        """os.environ plus overrides; an override of None removes the variable."""
        env = dict(os.environ)
        for name, value in overrides.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    run: Callable[[Context], list[dict]]
    module: str


def discover() -> list[Benchmark]:
    """Every module in bench/benchmarks/ not starting with "_", sorted by NAME."""
    import bench.benchmarks as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.append(_benchmark_from(module))
    names = [benchmark.name for benchmark in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SystemExit(f"duplicate benchmark NAME: {', '.join(duplicates)}")
    return sorted(found, key=lambda benchmark: benchmark.name)


def _benchmark_from(module: ModuleType) -> Benchmark:
    missing = [attr for attr in ("NAME", "DESCRIPTION", "run") if not hasattr(module, attr)]
    if missing:
        raise SystemExit(f"{module.__name__} lacks {', '.join(missing)} (see bench/README.md)")
    return Benchmark(name=module.NAME, description=module.DESCRIPTION, run=module.run, module=module.__name__)


def parse_target(target: str) -> tuple[str, float]:
    match = TARGET_PATTERN.match(target)
    if match is None:
        raise ValueError(f"target {target!r} must look like '< 3000' (operators <, <=, >, >=)")
    return match.group(1), float(match.group(2))


def check_measurement(raw: object) -> dict:
    """Validate one measurement and add `met` (True/False, or None without a target)."""
    if not isinstance(raw, dict):
        raise TypeError(f"a measurement must be a dict, got {type(raw).__name__}")
    unknown = set(raw) - MEASUREMENT_KEYS
    if unknown:
        raise ValueError(f"measurement {raw.get('name')!r} has unknown keys {sorted(unknown)}")
    for key in ("name", "value", "unit"):
        if key not in raw:
            raise ValueError(f"measurement {raw.get('name')!r} lacks {key!r}")
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"measurement {raw['name']!r}: value must be a finite number, got {value!r}")
    measurement = {
        "name": str(raw["name"]),
        "value": value,
        "unit": str(raw["unit"]),
        "target": raw.get("target"),
        "met": None,
        "notes": raw.get("notes"),
    }
    if measurement["target"] is not None:
        operator, bound = parse_target(measurement["target"])
        measurement["met"] = COMPARE[operator](value, bound)
    return measurement


def run_benchmark(benchmark: Benchmark, *, seed: int, quick: bool, env: EnvInfo) -> dict:
    print(f"== {benchmark.name}: {benchmark.description}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = {"name": benchmark.name, "description": benchmark.description, "status": "ok", "error": None}
    measurements: list[dict] = []
    with tempfile.TemporaryDirectory(prefix=f"tessera-bench-{benchmark.name}-") as tmp:
        ctx = Context(
            rng=random.Random(seed),
            seed=seed,
            quick=quick,
            repo_root=REPO_ROOT,
            tmp_dir=Path(tmp),
            env=env,
        )
        try:
            raw = benchmark.run(ctx)
            if not isinstance(raw, list):
                raise TypeError(f"run() must return a list of measurements, got {type(raw).__name__}")
            measurements = [check_measurement(item) for item in raw]
        except Exception as error:  # one failing benchmark must not hide the others' numbers
            result["status"] = "error"
            result["error"] = f"{type(error).__name__}: {error}"
            traceback.print_exc(file=sys.stderr)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["measurements"] = measurements
    return result


# --- run metadata ----------------------------------------------------------------------------------------
def git_commit(repo_root: Path) -> str | None:
    """HEAD's commit read from .git (no git subprocess), or None outside a checkout."""
    git_dir = repo_root / ".git"
    if git_dir.is_file():  # a worktree: "gitdir: <path>"
        git_dir = (repo_root / git_dir.read_text().split(":", 1)[1].strip()).resolve()
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref: "):
        return head or None
    ref = head[5:]
    for base in (git_dir, _common_dir(git_dir)):
        ref_file = base / ref
        if ref_file.is_file():
            return ref_file.read_text().strip() or None
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(f" {ref}"):
                    return line.split(" ", 1)[0]
    return None


def _common_dir(git_dir: Path) -> Path:
    common = git_dir / "commondir"
    return (git_dir / common.read_text().strip()).resolve() if common.is_file() else git_dir


def memory_total_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None


def mask_url(url: str | None) -> str | None:
    """The URL without its password, for the results files."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def machine_info(env: EnvInfo) -> dict:
    total = memory_total_bytes()
    return {
        "cpu_count": os.cpu_count(),
        "memory_total_mib": round(total / 2**20) if total else None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "git_commit": git_commit(REPO_ROOT),
        "database_url": mask_url(env.database_url),
        "redis_url": mask_url(env.redis_url),
    }


# --- output ----------------------------------------------------------------------------------------------
def format_value(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if magnitude < 1 else f"{value:.2f}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict) -> str:
    run, machine = report["run"], report["machine"]
    commit = (machine["git_commit"] or "unknown")[:12]
    memory = f"{machine['memory_total_mib'] / 1024:.1f} GiB" if machine["memory_total_mib"] else "unknown"
    lines = [
        "# Benchmark results",
        "",
        f"- Run: {run['timestamp']} (commit `{commit}`), quick: {'yes' if run['quick'] else 'no'}, "
        f"seed {run['seed']}, {run['seconds']} s",
        f"- Machine: {machine['platform']}, {machine['cpu_count']} CPUs, {memory} memory, "
        f"{machine['python']}",
        f"- Services: PostgreSQL {machine['database_url'] or 'not used'}; "
        f"Redis {machine['redis_url'] or 'not used'}",
        "",
        "Generated by `python -m bench.run`; see bench/README.md.",
    ]
    for benchmark in report["benchmarks"]:
        lines += ["", f"## {benchmark['name']}", "", benchmark["description"], ""]
        if benchmark["status"] != "ok":
            lines += [f"**Failed:** {_cell(benchmark['error'])}", ""]
        if benchmark["measurements"]:
            lines += [
                "| Measurement | Value | Unit | Target | Met? | Notes |",
                "| --- | ---: | --- | --- | --- | --- |",
            ]
            for m in benchmark["measurements"]:
                met = {True: "yes", False: "**no**", None: "-"}[m["met"]]
                lines.append(
                    f"| {_cell(m['name'])} | {format_value(m['value'])} | {_cell(m['unit'])} "
                    f"| {_cell(m['target'] or '-')} | {met} | {_cell(m['notes'] or '')} |"
                )
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# --- command line ----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None, names: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        choices=names,
        help=f"run only these benchmarks (of: {', '.join(names)})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions: a smoke run, noisier numbers"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of ctx.rng (default %(default)s)"
    )
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR, help="default bench/results")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    # A SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, so servers and temp dirs are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    benchmarks = discover()
    args = parse_args(argv, [benchmark.name for benchmark in benchmarks])
    if args.list:
        for benchmark in benchmarks:
            print(f"{benchmark.name:<20} {benchmark.description}")
        return 0
    selected = [b for b in benchmarks if not args.only or b.name in args.only]
    env = EnvInfo(
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        python=sys.executable,
    )

    started = time.perf_counter()
    timestamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    results = [run_benchmark(b, seed=args.seed, quick=args.quick, env=env) for b in selected]
    report = {
        "run": {
            "timestamp": timestamp,
            "seconds": round(time.perf_counter() - started, 1),
            "quick": args.quick,
            "seed": args.seed,
            "only": args.only,
            "argv": sys.argv[1:] if argv is None else argv,
        },
        "machine": machine_info(env),
        "benchmarks": results,
    }

    args.results_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = args.results_dir / "latest.json", args.results_dir / "latest.md"
    write_atomically(json_path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    markdown = render_markdown(report)
    write_atomically(md_path, markdown)
    print(markdown)
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return 1 if any(result["status"] != "ok" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
