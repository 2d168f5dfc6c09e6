"""The ``theorycheck`` command: list, check, report and replay (DESIGN.md, user-facing contract).

Exit codes: 0 every claim holds (or is not applicable), 1 a violation was found, 2 usage or
input error, reported as one line on stderr.
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from theorems.profiles import PROFILES
from theorems.report_progress import ReportProgress

if TYPE_CHECKING:
    from theorems.checker import CheckResult

# torch, the catalog, the checker, the report and Dask are imported by the commands that use
# them, so that ``theorycheck --help`` starts at once (issue 14, item 5).

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A one-line usage or input error (exit code 2)."""


class _Families:
    """The problem families' names as ``--family`` choices, read from ``problems`` (which
    imports torch) only when an argument is checked or a help text lists them."""

    def _names(self) -> list[str]:
        from problems import FAMILIES
        return sorted(FAMILIES)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as the contract says
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="theorycheck", description="Check the results of the lecture notes on generated problems.")
    parser.add_argument("--load", action="append", default=[], metavar="MODULE",
                        help="import MODULE first, e.g. one that registers your own results (repeatable)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p_list = sub.add_parser("list", help="list the encoded results")
    p_list.add_argument("--format", choices=("text", "json"), default="text")

    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--profile", choices=sorted(PROFILES), default="quick", help="search budget (default quick)")
        p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
        p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
        p.add_argument("--algorithm", metavar="MODULE:OBJECT",
                       help="check this algorithm factory or torch.optim.Optimizer subclass instead of the spec's "
                            "(module:object or a dotted path such as torch.optim.SGD)")
        p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                       help="keyword argument for the algorithm, a Python literal (e.g. momentum=0.9; repeatable)")
        p.add_argument("--hyper", action="append", default=[], metavar="NAME=EXPR",
                       help="override a prescribed hyper-parameter with an expression of the constants "
                            "(e.g. 'eta=1/(3*H)'; repeatable)")
        p.add_argument("--family", action="append", choices=_Families(), metavar="FAMILY",
                       help="restrict to these problem families (repeatable): %(choices)s")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        p.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the results in parallel on Dask: local, local:N (N worker processes here) "
                            "or a scheduler address such as tcp://host:8786")

    p_check = sub.add_parser("check", help="check results, e.g. T5.8, 5.8, several IDs, or all")
    p_check.add_argument("id", nargs="+", help="result IDs, or 'all' for every result")
    run_options(p_check)
    p_check.add_argument("--format", choices=("text", "json"), default="text")
    p_check.add_argument("--counterexamples", default="counterexamples", metavar="DIR",
                         help="where counterexample files go (default ./counterexamples)")

    p_report = sub.add_parser("report", help="check the catalog (or the results named) and write a report")
    p_report.add_argument("id", nargs="*", help="result IDs to report on (default: every result)")
    run_options(p_report)
    p_report.add_argument("--format", choices=("html", "md", "json"), action="append",
                          help="formats to write (repeatable; default all three)")
    p_report.add_argument("--out", default="theorycheck-report", metavar="DIR", help="output folder")

    p_replay = sub.add_parser("replay", help="rebuild the run of a counterexample file and measure it again")
    p_replay.add_argument("file")
    p_replay.add_argument("--allow-import", action="store_true",
                          help="import the module the file names as its algorithm (runs that module's code; "
                               "only for files you trust); built-in and torch.optim algorithms need no flag")
    p_replay.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _device(name: str) -> str:
    import torch
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r}; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: CUDA is not available to this torch build")
    return str(device)


def _progress(enabled: bool) -> Callable[[str], None] | None:
    """In-place progress messages on a terminal (cut to its width so they never wrap); None
    (silence) when disabled or when stderr is not a terminal, e.g. in CI logs."""
    if not enabled or not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        width = max(20, shutil.get_terminal_size(fallback=(100, 24)).columns - 1)
        sys.stderr.write("\r\033[K" + message[:width])
        sys.stderr.flush()
    return show


def _summary_line(result: CheckResult) -> str:
    parts = []
    for c in result.claims:
        tightness = "-" if c.tightness is None else f"{c.tightness:.3g}"
        parts.append(f"{c.name}={c.verdict}({tightness})")
    return f"{result.spec.id:6s} {result.seconds:6.1f}s  " + "  ".join(parts)


def _check_text(result: CheckResult) -> str:
    lines = [f"{result.spec.id} {result.spec.title} (section {result.spec.source.section}, "
             f"line {result.spec.source.line}); profile {result.profile}"
             + (f"; algorithm {result.algorithm}" if result.algorithm else "")
             + (f"; options {result.options}" if result.options else "")
             + (f"; hyper-parameters {result.hyper}" if result.hyper else "")]
    for c in result.claims:
        tightness = "-" if c.tightness is None else f"{c.tightness:.4g}"
        lines.append(f"  {c.name:28s} {c.kind:6s} {c.verdict:14s} tightness {tightness:>9s}  "
                     f"{c.instances} instances on {', '.join(sorted(c.families)) or 'no admissible family'}")
        if c.violation is not None:
            v = c.violation
            lines.append(f"    violated on {v.key.family}/{v.key.oracle} instance {v.instance} (T={v.key.horizon}, "
                         f"d={v.key.dim}{'' if v.step is None else f', t={v.step}'}): measured {v.measured:.6g} > "
                         f"bound {v.bound:.6g}{(' (' + v.reason + ')') if v.reason else ''}")
            from theorems.loading import imports_code
            flag = " --allow-import" if result.algorithm and imports_code(result.algorithm) else ""
            lines.append(f"    replay: theorycheck replay {c.counterexample}{flag}")
    for description, ok in result.proof_steps:
        lines.append(f"  proof step {'verified' if ok else 'FAILS'}: {description}")
    return "\n".join(lines)


def _cmd_list(args: argparse.Namespace) -> int:
    from theorems.catalog import CATALOG
    entries = [{"id": s.id, "title": s.title, "source": {"section": s.source.section, "line": s.source.line},
                "assumptions": sorted(s.assumptions),
                "claims": [{"name": c.name, "kind": c.kind, "statement": c.statement} for c in s.claims]}
               for s in CATALOG.values()]
    if args.format == "json":
        print(json.dumps(entries, indent=1))
    else:
        for e in entries:
            kinds = ", ".join(f"{c['name']} ({c['kind']})" for c in e["claims"])
            print(f"{e['id']:6s} line {e['source']['line']:5d}  {e['title']}\n         {kinds}")
    return EXIT_OK


def _variant(args: argparse.Namespace) -> dict:
    """The algorithm, its options and the hyper-parameter overrides given on the command line."""
    from theorems.loading import parse_assignments, parse_options
    options = parse_options(args.option)
    hyper = parse_assignments(args.hyper, "--hyper")
    if options and not args.algorithm:
        raise UsageError("--option needs --algorithm (the options are keyword arguments of that algorithm)")
    return {"algorithm": args.algorithm, "options": options, "hyper": hyper}


def _specs(ids: Sequence[str]) -> list:
    from theorems.catalog import CATALOG, lookup
    if [i.lower() for i in ids] == ["all"]:
        return list(CATALOG.values())
    chosen = {}
    for identifier in ids:
        spec = lookup(identifier)
        chosen.setdefault(spec.id, spec)
    return list(chosen.values())


def _cmd_check(args: argparse.Namespace) -> int:
    from theorems.sweep import run_checks
    specs = _specs(args.id)
    variant = _variant(args)

    def show(_: int, result: CheckResult) -> None:
        if not args.quiet and sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
        if args.format == "text":
            print(_check_text(result), flush=True)

    results = run_checks(specs, scheduler=args.scheduler, on_result=show, progress=_progress(not args.quiet),
                         profile=args.profile, seed=args.seed, device=_device(args.device), families=args.family,
                         counterexample_dir=args.counterexamples, **variant)
    if args.format == "json":
        documents = [r.as_dict() for r in results]
        print(json.dumps(documents[0] if len(args.id) == 1 and args.id[0].lower() != "all" else documents, indent=1))
    return EXIT_VIOLATED if any(r.violated for r in results) else EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from theorems.checker import count_rounds
    from theorems.report import run_settings, write_report
    from theorems.sweep import run_checks
    device = _device(args.device)
    variant = _variant(args)
    started = time.perf_counter()
    out = Path(args.out)
    specs = _specs(args.id or ["all"])
    bar = None
    if not args.quiet:
        profile = PROFILES[args.profile]
        total = sum(count_rounds(spec, profile, args.seed, device, args.family) for spec in specs)
        bar = ReportProgress(total, len(specs))
    results = run_checks(specs, scheduler=args.scheduler, progress=None if bar is None else bar.round,
                         on_result=None if bar is None else lambda i, r: bar.result(i, _summary_line(r)),
                         profile=args.profile, seed=args.seed, device=device, families=args.family,
                         counterexample_dir=out / "counterexamples", **variant)
    seconds = time.perf_counter() - started
    if bar is not None:
        bar.status("writing the report")
    command = ["theorycheck", "report", *args.id, "--profile", args.profile, "--device", device, "--seed", str(args.seed)]
    command += [f"--family={f}" for f in args.family or []]
    if args.algorithm:
        command += ["--algorithm", args.algorithm]
    command += [f"--option={o}" for o in args.option] + [f"--hyper={h}" for h in args.hyper]
    settings = run_settings(profile=args.profile, device=device, seed=args.seed, seconds=seconds,
                            algorithm=args.algorithm, options=variant["options"], hyper=variant["hyper"],
                            families=args.family, command=shlex.join(command))
    paths = write_report(results, out, formats=args.format or ["html", "md", "json"], settings=settings)
    if bar is not None:
        bar.close()
    violated = sum(r.violated for r in results)
    claims = sum(len(r.claims) for r in results)
    print(f"{len(results)} results, {claims} claims, {violated} with a violation; wrote "
          + ", ".join(str(p) for p in paths) + f" in {time.perf_counter() - started:.1f} s")
    return EXIT_VIOLATED if violated else EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from theorems.catalog import UnknownResultError, lookup
    from theorems.counterexample import CounterexampleError, load_counterexample, replay
    document = load_counterexample(args.file)
    try:
        spec = lookup(document["theorem"])
    except UnknownResultError as exc:
        raise CounterexampleError(f"replay file names {exc}") from None
    outcome = replay(document, spec, allow_import=args.allow_import)
    if args.format == "json":
        print(json.dumps(outcome.__dict__, indent=1))
    else:
        verdict = "violated" if outcome.violated else ("holds" if outcome.applicable else
                                                       "not applicable (the instance no longer meets the claim's condition)")
        test = "" if outcome.p_value is None else f", p-value {outcome.p_value:.3g} against level {outcome.level:.3g}"
        print(f"{outcome.theorem} {outcome.claim}: measured {outcome.measured:.17g} (recorded "
              f"{outcome.recorded_measured:.17g}), bound {outcome.bound:.17g}{test}: {verdict}")
    return EXIT_VIOLATED if outcome.violated else EXIT_OK


_COMMANDS = {"list": _cmd_list, "check": _cmd_check, "report": _cmd_report, "replay": _cmd_replay}
#: The errors reported as one line with exit code 2, by module and name (their modules are
#: imported only by the commands that can raise them).
_USER_ERRORS = frozenset({("theorems.catalog", "UnknownResultError"),
                          ("theorems.loading", "AlgorithmLoadError"), ("algorithms.run", "ProtocolError"),
                          ("theorems.counterexample", "CounterexampleError"), ("theorems.spec", "SpecError"),
                          ("theorems.sweep", "SchedulerError")})


def _is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a ``UsageError`` or (a subclass of) one of ``_USER_ERRORS``."""
    return isinstance(exc, UsageError) or any((c.__module__, c.__qualname__) in _USER_ERRORS for c in type(exc).__mro__)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``theorycheck`` console script."""
    try:
        args = _parser().parse_args(argv)
        if args.load:
            from theorems.loading import load_module
            for module in args.load:
                load_module(module)
        return _COMMANDS[args.command](args)
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"theorycheck: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("theorycheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
