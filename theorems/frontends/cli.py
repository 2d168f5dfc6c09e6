"""The ``theorycheck`` command: list, check, report and replay (DESIGN.md, user-facing contract).

Exit codes: 0 every claim holds (or is not applicable), 1 a violation was found, 2 usage or
input error, reported as one line on stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from theorems.engine.profiles import PROFILES
from theorems.frontends.report_progress import ReportProgress

if TYPE_CHECKING:
    from theorems.engine.checker import CheckResult
    from theorems.frontends.sweep import CheckError

# torch, the catalog, the checker, the report and Dask are imported by the commands that use
# them, so that ``theorycheck --help`` starts at once (issue 14, item 5).

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


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
        p.add_argument("--claim", action="append", metavar="NAME",
                       help="check only this claim (repeatable; names as in `theorycheck list`)")
        p.add_argument("--variant-setting", action="append", metavar="SETTING",
                       help="apply --algorithm/--option/--hyper only in this setting (repeatable; default every "
                            "setting that runs an algorithm, e.g. A3's with-replacement run too)")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="check N results at a time in worker processes, one torch thread each "
                            f"(default: the {os.cpu_count() or 1} cores here; 1 runs them in this process)")
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
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError("--device cuda: CUDA is not available to this torch build")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps":
        raise UsageError("--device mps: the checks run in float64, which Apple's MPS backend does not support; "
                         "use cpu")
    elif device.type != "cpu":
        raise UsageError(f"--device {name}: the checks run on cpu or cuda only")
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


def _summary_line(result: CheckResult | CheckError) -> str:
    from theorems.frontends.sweep import CheckError
    if isinstance(result, CheckError):
        return f"{result.spec.id:6s} not checked: {result.message}"
    parts = []
    for c in result.claims:
        tightness = "-" if c.tightness is None else f"{c.tightness:.3g}"
        parts.append(f"{c.name}={c.verdict}({tightness})")
    return f"{result.spec.id:6s} {result.seconds:6.1f}s  " + "  ".join(parts)


def _certificates(result: CheckResult, requested: Sequence[str] | None = None) -> list[str]:
    """The certificates of the user families the result ran on or the user asked for (--family)."""
    from problems.numpy_loss import certificate_lines
    return certificate_lines([f for c in result.claims for f in c.families] + list(requested or []))


def _check_text(result: CheckResult, requested: Sequence[str] | None = None) -> str:
    from theorems.engine import exact_worst_case
    lines = [f"{result.spec.id} {result.spec.title} (section {result.spec.source.section}, "
             f"line {result.spec.source.line}); profile {result.profile}"
             + (f"; algorithm {result.algorithm}" if result.algorithm else "")
             + (f"; options {result.options}" if result.options else "")
             + (f"; hyper-parameters {result.hyper}" if result.hyper else "")]
    if result.algorithm:
        lines.append(f"  the variant runs in setting(s) {', '.join(result.replaced)}; the others, and coupled "
                     "comparison runs, keep the spec's algorithm")
    for c in result.claims:
        tightness = "-" if c.tightness is None else f"{c.tightness:.4g}"
        lines.append(f"  {c.name:28s} {c.kind:6s} {c.verdict:14s} tightness {tightness:>9s}  "
                     f"{c.instances} instances on {', '.join(sorted(c.families)) or 'no admissible family'}"
                     + (f" ({c.dropped} dropped: minimiser not certified)" if c.dropped else ""))
        if c.violation is not None:
            v = c.violation
            lines.append(f"    violated on {v.key.family}/{v.key.oracle} instance {v.instance} (T={v.key.horizon}, "
                         f"d={v.key.dim}{'' if v.step is None else f', t={v.step}'}): measured {v.measured:.6g} > "
                         f"bound {v.bound:.6g}{(' (' + v.reason + ')') if v.reason else ''}")
            from theorems.engine.loading import imports_code
            flag = " --allow-import" if result.algorithm and imports_code(result.algorithm) else ""
            lines.append(f"    replay: theorycheck replay {c.counterexample}{flag}")
        comparison = exact_worst_case.for_result(result, c)
        if comparison is not None:
            lines.append("    " + exact_worst_case.summary(comparison))
    for description, ok in result.proof_steps:
        lines.append(f"  proof step {'verified' if ok else 'FAILS'}: {description}")
    lines += [f"  certificate of {line}" for line in _certificates(result, requested)]
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
    from theorems.engine.loading import parse_assignments, parse_options
    options = parse_options(args.option)
    hyper = parse_assignments(args.hyper, "--hyper")
    if args.algorithm is not None and not args.algorithm.strip():
        raise UsageError("--algorithm is empty; give module:object, a dotted path or a built-in name")
    if options and not args.algorithm:
        raise UsageError("--option needs --algorithm (the options are keyword arguments of that algorithm)")
    if args.variant_setting and not (args.algorithm or hyper):
        raise UsageError("--variant-setting needs --algorithm or --hyper")
    return {"algorithm": args.algorithm, "options": options, "hyper": hyper,
            "variant_settings": args.variant_setting}


def _specs(ids: Sequence[str]) -> list:
    from theorems.catalog import CATALOG, lookup
    if [i.lower() for i in ids] == ["all"]:
        return list(CATALOG.values())
    chosen = {}
    for identifier in ids:
        spec = lookup(identifier)
        chosen.setdefault(spec.id, spec)
    return list(chosen.values())


def _select(specs: list, args: argparse.Namespace, variant: dict) -> list:
    """The results to run after ``--claim`` and the variant's reach are applied: an option that
    applies to none of them is an error; results it does not reach are named on stderr."""
    from theorems.engine.checker import variant_replaces
    if args.claim:
        known = {c.name for spec in specs for c in spec.claims}
        unknown = [n for n in args.claim if n not in known]
        if unknown:
            raise UsageError(f"--claim {unknown[0]}: no such claim in {', '.join(s.id for s in specs)}; claims: "
                             + ", ".join(sorted(known)))
        specs = [s for s in specs if any(c.name in args.claim for c in s.claims)]
    if not (variant["algorithm"] or variant["hyper"]):
        return specs
    if variant["variant_settings"]:
        known = {st.name for spec in specs for st in spec.settings if st.runs_algorithm}
        unknown = [n for n in variant["variant_settings"] if n not in known]
        if unknown:
            raise UsageError(f"--variant-setting {unknown[0]}: no setting of that name runs an algorithm here; "
                             "settings: " + ", ".join(sorted(known)))
    reached = [s for s in specs if variant_replaces(s, variant["variant_settings"])]
    what = "--algorithm" if variant["algorithm"] else "--hyper"
    if not reached:
        raise UsageError(f"{what} does not apply: {', '.join(s.id for s in specs)} run(s) no algorithm in the "
                         "settings chosen")
    missed = [s.id for s in specs if s not in reached]
    if missed:
        print(f"theorycheck: note: {what} not applied to {', '.join(missed)} (no algorithm runs there)",
              file=sys.stderr)
    return specs


def _outcome(results: Sequence[CheckResult | CheckError]) -> int:
    """1 when a claim was violated; else 2 when a result could not be checked; else 0."""
    from theorems.frontends.sweep import CheckError
    if any(r.violated for r in results):
        return EXIT_VIOLATED
    return EXIT_USAGE if any(isinstance(r, CheckError) for r in results) else EXIT_OK


def _writable_folder(path: str, option: str) -> None:
    for p in (Path(path), *Path(path).absolute().parents):
        if p.exists() and not p.is_dir():
            raise UsageError(f"{option} {path}: {p} is a file, not a folder; choose another {option}")


def _run_kwargs(args: argparse.Namespace, variant: dict, device: str) -> dict:
    """The keyword arguments of ``run_checks``; this process runs torch with one thread (on small
    batched problems more threads only add synchronisation: issue 14)."""
    import torch

    from theorems.frontends.sweep import validate_scheduler
    if args.scheduler:
        validate_scheduler(args.scheduler, command_line=True)
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: needs at least 1")
    torch.set_num_threads(1)
    return dict(scheduler=args.scheduler, profile=args.profile, seed=args.seed, device=device,
                families=args.family, claims=args.claim, jobs=args.jobs, load=args.load, **variant)


def _cmd_check(args: argparse.Namespace) -> int:
    from theorems.frontends.sweep import CheckError, run_checks
    specs = _specs(args.id)
    variant = _variant(args)
    specs = _select(specs, args, variant)
    _writable_folder(args.counterexamples, "--counterexamples")
    kwargs = _run_kwargs(args, variant, _device(args.device))

    def show(_: int, result: CheckResult | CheckError) -> None:
        if not args.quiet and sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
        if isinstance(result, CheckError):
            print(f"theorycheck: error: {result.spec.id} not checked: {result.message}", file=sys.stderr, flush=True)
        elif args.format == "text":
            print(_check_text(result, args.family), flush=True)

    results = run_checks(specs, on_result=show, progress=_progress(not args.quiet),
                         counterexample_dir=args.counterexamples, **kwargs)
    if args.format == "json":
        from theorems.engine import exact_worst_case
        documents = [r.as_dict() if isinstance(r, CheckError) else
                     {**exact_worst_case.annotate(r, r.as_dict()), "certificates": _certificates(r, args.family)}
                     for r in results]
        print(json.dumps(documents[0] if len(args.id) == 1 and args.id[0].lower() != "all" else documents, indent=1))
    return _outcome(results)


def _cmd_report(args: argparse.Namespace) -> int:
    from theorems.engine.checker import count_rounds
    from theorems.frontends.report import run_settings, write_report
    from theorems.frontends.report_output import check_output_folder, staged_folder
    from theorems.frontends.sweep import CheckError, run_checks
    device = _device(args.device)
    variant = _variant(args)
    started = time.perf_counter()
    out = check_output_folder(args.out)
    specs = _select(_specs(args.id or ["all"]), args, variant)
    kwargs = _run_kwargs(args, variant, device)
    bar = None
    if not args.quiet:
        profile = PROFILES[args.profile]
        rounds = {spec.id: count_rounds(spec, profile, args.seed, device, args.family, args.claim) for spec in specs}
        bar = ReportProgress(sum(rounds.values()), len(specs))
        parallel = args.jobs > 1 or args.scheduler  # no per-round messages then: count a result's rounds at its end
    with staged_folder(out) as staging:
        results = run_checks(specs, progress=None if bar is None else bar.round,
                             on_result=None if bar is None else
                             lambda i, r: bar.result(i, _summary_line(r), rounds[r.spec.id] if parallel else 0),
                             counterexample_dir=staging / "counterexamples", **kwargs)
        errors = [r for r in results if isinstance(r, CheckError)]
        checked = [r for r in results if not isinstance(r, CheckError)]
        for result in checked:
            for claim in result.claims:
                if claim.counterexample and Path(claim.counterexample).is_relative_to(staging):
                    claim.counterexample = str(out / Path(claim.counterexample).relative_to(staging))
        seconds = time.perf_counter() - started
        if bar is not None:
            bar.status("writing the report")
        command = ["theorycheck", "report", *args.id, "--profile", args.profile, "--device", device,
                   "--seed", str(args.seed)]
        command += [f"--family={f}" for f in args.family or []] + [f"--claim={c}" for c in args.claim or []]
        if args.algorithm:
            command += ["--algorithm", args.algorithm]
        command += [f"--option={o}" for o in args.option] + [f"--hyper={h}" for h in args.hyper]
        command += [f"--variant-setting={v}" for v in args.variant_setting or []]
        settings = run_settings(profile=args.profile, device=device, seed=args.seed, seconds=seconds,
                                algorithm=args.algorithm, options=variant["options"], hyper=variant["hyper"],
                                families=args.family, command=shlex.join(command))
        staged = write_report(checked, staging, formats=args.format or ["html", "md", "json"], settings=settings)
    paths = [out / p.relative_to(staging) for p in staged]
    if bar is not None:
        bar.close()
    for error in errors:
        print(f"theorycheck: error: {error.spec.id} not checked: {error.message}", file=sys.stderr)
    violated = sum(r.violated for r in checked)
    claims = sum(len(r.claims) for r in checked)
    print(f"{len(checked)} results, {claims} claims, {violated} with a violation"
          + (f", {len(errors)} not checked" if errors else "") + "; wrote "
          + ", ".join(str(p) for p in paths) + f" in {time.perf_counter() - started:.1f} s")
    return _outcome(results)


def _cmd_replay(args: argparse.Namespace) -> int:
    from theorems.catalog import UnknownResultError, lookup
    from theorems.engine.counterexample import CounterexampleError, load_counterexample, replay
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
                          ("theorems.engine.loading", "AlgorithmLoadError"), ("algorithms.run", "ProtocolError"),
                          ("theorems.engine.counterexample", "CounterexampleError"), ("theorems.language.spec", "SpecError"),
                          ("theorems.frontends.sweep", "SchedulerError"), ("theorems.frontends.report_output", "OutputError"),
                          ("problems.numpy_loss", "CertificateError")})


def _is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a ``UsageError`` or (a subclass of) one of ``_USER_ERRORS``."""
    return isinstance(exc, UsageError) or any((c.__module__, c.__qualname__) in _USER_ERRORS for c in type(exc).__mro__)


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that a report being written is not left half done."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


def _wants_json(argv: Sequence[str]) -> bool:
    items = list(argv)
    return any(a == "--format=json" or (a == "--format" and i + 1 < len(items) and items[i + 1] == "json")
               for i, a in enumerate(items))


def _fail(message: str, code: int, as_json: bool) -> int:
    """One line on stderr (and, with --format json, an object with an ``error`` field on stdout)."""
    message = message.splitlines()[0] if message else "unknown error"
    print(f"theorycheck: error: {message}", file=sys.stderr)
    if as_json:
        try:
            print(json.dumps({"error": message, "exit_code": code}))
        except BrokenPipeError:
            pass
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``theorycheck`` console script. Exit 0: every claim holds; 1: a claim
    was violated; 2: bad input, or a result that could not be checked (one line on stderr);
    3: an internal error of theorycheck (one line; please report it); 130/143: interrupted."""
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = _wants_json(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        modules: list[str] = []
        if os.environ.get("THEORYCHECK_FAMILIES"):  # import only what the user named there
            from problems import user_family_modules
            from theorems.engine.loading import load_module
            modules = user_family_modules()
            for module in modules:
                load_module(module)
        args = _parser().parse_args(argv)
        if modules and getattr(args, "scheduler", None):
            raise UsageError("--scheduler: the families of THEORYCHECK_FAMILIES do not reach Dask workers yet; "
                             "run without --scheduler")
        if args.load:
            from theorems.engine.loading import load_module
            for module in args.load:
                load_module(module)
        return _COMMANDS[args.command](args)
    except Exception as exc:
        if _is_user_error(exc):
            return _fail(str(exc) or type(exc).__name__, EXIT_USAGE, as_json)
        if isinstance(exc, BrokenPipeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            print("theorycheck: error: the output was cut: standard output closed early (broken pipe)",
                  file=sys.stderr)
            return EXIT_USAGE
        return _fail(f"internal error, please report it with the command: {type(exc).__name__}: {exc}",
                     EXIT_INTERNAL, as_json)
    except KeyboardInterrupt:
        print("theorycheck: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("theorycheck: terminated", file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)

