"""``python -m a2dl``: the explicit, reproducible steps behind the report.

Chapters never train; this is where weights and histories under ``weights/`` come from.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from collections.abc import Callable, Sequence

from a2dl import artefacts
from a2dl.device import CHOICES  # light: a2dl.device imports torch only when used
from a2dl.evaluation import EVALUATIONS  # light: the evaluations import torch only when run

# name -> ("module:function[:argument]", what it does), from the one table of artefacts.
# Imported only when run, so --help stays fast; an argument after a second colon is passed to
# the function first.
EXPERIMENTS = artefacts.commands("train")
LR_RANGES = artefacts.commands("lr-range")
BENCHMARKS = artefacts.commands("bench")


def _resolve(target: str) -> Callable[..., object]:
    module, function, *arguments = target.split(":")
    resolved = getattr(importlib.import_module(module), function)
    return functools.partial(resolved, *arguments) if arguments else resolved


def _listing(entries: dict[str, tuple[str, str]]) -> str:
    if not entries:
        return "  (none yet)"
    return "\n".join(f"  {name:<19} {about}" for name, (_, about) in entries.items())


def _thread_count(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"needs at least 1 thread, not {count}")
    return count


def _add_threads(parser: argparse.ArgumentParser) -> None:
    """``--threads``: the default is PyTorch's, every core it sees, so that a many-core
    machine is used whole; a recipe records the count it was trained with."""
    parser.add_argument(
        "--threads",
        type=_thread_count,
        default=None,
        metavar="N",
        help="CPU threads for PyTorch (default: every core PyTorch sees)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m a2dl",
        description="Train the report's models, benchmark them, and package the submission.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train an experiment and write weights/<name>.pt and its history",
        description="Experiments:\n"
        + _listing(EXPERIMENTS)
        + f"\n  {'vision':<19} the four bonus models, one after another (about 2 h 40 min)"
        + f"\n  {'all':<19} every one",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("experiment", choices=[*EXPERIMENTS, "vision", "all"], metavar="EXPERIMENT")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument(
        "--device",
        choices=CHOICES,
        default="auto",
        help="where to train (default auto: CUDA, else MPS, else CPU); same recipe and seed",
    )
    _add_threads(train)

    lr_range = commands.add_parser(
        "lr-range",
        help="learning-rate range test of a bonus network (writes weights/)",
    )
    lr_range.add_argument("network", choices=list(LR_RANGES))
    lr_range.add_argument("--device", choices=CHOICES, default="auto")
    _add_threads(lr_range)

    bench = commands.add_parser(
        "bench",
        help="print speed figures (tokens or images per second, seconds per epoch)",
        description="Benchmarks:\n" + _listing(BENCHMARKS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("benchmark", choices=list(BENCHMARKS), metavar="BENCHMARK")
    _add_threads(bench)

    evaluate = commands.add_parser(
        "evaluate",
        help="print the test metrics of an experiment from its shipped weights",
        description="Experiments:\n" + _listing(EVALUATIONS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("experiment", choices=list(EVALUATIONS), metavar="EXPERIMENT")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_threads(evaluate)

    commands.add_parser(
        "figures",
        help="write every figure of the report as figures/<label>.svg (executes the chapters)",
    )

    commands.add_parser(
        "verify-data",
        help="check every dataset in the data folder against its checksums (changes nothing)",
    )

    results = commands.add_parser(
        "nab-results",
        help="write the Part II streaming detector's scores in NAB's results format",
        description="One CSV per NAB data file (timestamp,value,anomaly_score,label) in NAB's "
        "results layout, so that NAB's own scorer can score them too.",
    )
    results.add_argument("--out", default="build/nab_results", help="output folder")

    for kind, about in (
        ("submission", "the course's final archive <names>_assignment2.zip"),
        ("checkpoint", "the checkpoint archive <names>_assignment2_checkpoint.zip (Parts I-III)"),
    ):
        archive = commands.add_parser(kind, help=f"build {about} from the rendered report")
        archive.add_argument(
            "--names",
            default=None,
            help="ubit or ubit1_ubit2 (default: from the authors' e-mails in _quarto.yml)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a bad input is one line on stderr and status 2, never a traceback,
    and an interrupted run says that nothing it would have written was touched."""
    args = build_parser().parse_args(argv)
    from a2dl.errors import InputError

    try:
        return _run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: files are only replaced when complete, so weights/ holds what it "
            "held before this run.",
            file=sys.stderr,
        )
        return 130


def _run(args: argparse.Namespace) -> int:
    if hasattr(args, "threads"):  # train, lr-range, evaluate and bench
        from a2dl import device

        threads = device.use_threads(args.threads)
        if hasattr(args, "device"):  # train and lr-range
            print(f"device: {device.select(args.device)}, {threads} CPU threads")
    if args.command == "lr-range":
        _resolve(LR_RANGES[args.network][0])()
    elif args.command == "train":
        groups = {
            "all": list(EXPERIMENTS),
            "vision": [name for name in EXPERIMENTS if name.startswith("vision-")],
        }
        names = groups.get(args.experiment, [args.experiment])
        from a2dl import paths

        paths.check_writable(paths.weights_dir())  # before minutes of training, not after
        for name in names:
            _resolve(EXPERIMENTS[name][0])(progress=not args.quiet)
    elif args.command == "bench":
        _resolve(BENCHMARKS[args.benchmark][0])()
    elif args.command == "evaluate":
        from a2dl.evaluation import evaluate, render

        print(render(args.experiment, evaluate(args.experiment), as_json=args.json))
    elif args.command == "figures":
        from a2dl.figures import export_figures

        print(f"wrote {len(export_figures())} figures to figures/")
    elif args.command == "verify-data":
        from a2dl.data.verify import verify_data

        checks = verify_data()
        for check in checks:
            print(check.line())
        return 1 if any(check.status == "FAILED" for check in checks) else 0
    elif args.command in ("submission", "checkpoint"):
        from a2dl import paths
        from a2dl.report import ubit_names
        from a2dl.submission import SubmissionError, build_archive, check_authors

        try:
            check_authors(paths.repo_root())  # before the names are read from the authors
            target = build_archive(args.command, args.names or ubit_names())
        except SubmissionError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"wrote {target}")
    elif args.command == "nab-results":
        from a2dl.anomaly.nab_detector import write_nab_results

        print(f"wrote {write_nab_results(args.out)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
