"""Every experiment once: the command that runs it, the files it writes under ``weights/`` and
what it reads.

The command-line interface, the error that says how to rebuild a missing or damaged file, the
course archives and the appendix on reproducing the report all read this table, so that a file
or a command is named in one place. It imports nothing heavy: ``--help`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from a2dl import paths

SEED = 676  # the one seed of every split, initialisation and shuffle (the course's number)

# Part II's autoencoders (a2dl.anomaly.models; a test checks they agree): the deep ones, which
# compete, and the linear one, a baseline
DEEP_ANOMALY_MODELS = ("dense", "conv1d", "lstm", "vae")
ANOMALY_MODELS = (*DEEP_ANOMALY_MODELS, "linear")
# The bonus networks and their titles in the report (a2dl.vision.registry; a test checks)
VISION_MODELS: dict[str, str] = {
    "vit": "ViT (from scratch)",
    "vgg": "VGG-11 (½ width, BN)",
    "resnet": "ResNet-20",
    "efficientnet": "EfficientNet-B0 (½ width, no dropout or stochastic depth)",
}


def weights_name(stem: str) -> str:
    """The trained weights of ``stem``: float32 tensors beside the config that built them."""
    return f"{stem}.pt"


def history_name(stem: str) -> str:
    """The per-epoch metrics of ``stem``'s training, from which learning curves are drawn."""
    return f"{stem}.history.json"


def weights_path(stem: str) -> Path:
    return paths.weights_dir() / weights_name(stem)


def history_path(stem: str) -> Path:
    return paths.weights_dir() / history_name(stem)


def record_path(name: str) -> Path:
    """A result file under ``weights/`` that is neither weights nor a history (``name`` with
    its suffix): a selection, a tuning, a baseline, an ablation store, a speed record."""
    return paths.weights_dir() / name


def _trained(*stems: str) -> tuple[str, ...]:
    return tuple(name for stem in stems for name in (weights_name(stem), history_name(stem)))


@dataclass(frozen=True)
class Artefact:
    """One command of ``python -m a2dl`` and what it leaves under ``weights/``."""

    verb: str  # train, lr-range or bench
    name: str  # the command's argument
    target: str  # "module:function[:argument]", imported only when the command runs
    about: str  # what it does, for --help and the appendix (Markdown)
    writes: tuple[str, ...]  # file names under weights/
    reads: tuple[str, ...]  # datasets, and files that other commands write

    @property
    def command(self) -> str:
        return f"python -m a2dl {self.verb} {self.name}"


def streaming_stem(architecture: str) -> str:
    """The weights stem of Part II's streaming detectors of one architecture (one per file)."""
    return f"nab_streaming_{architecture}"


STREAMING_REFIT = streaming_stem("refit")  # the chosen architecture, fine-tuned as it goes
STREAMING_STEMS = (*map(streaming_stem, DEEP_ANOMALY_MODELS), STREAMING_REFIT)
_STREAMING = tuple(map(weights_name, STREAMING_STEMS))
_VISION_TRAINING = tuple(
    Artefact(
        "train",
        f"vision-{name}",
        f"a2dl.vision.experiment:train_and_save:{name}",
        f"Bonus: {title} on CIFAR-10 (a budget of 40 CPU-minutes)",
        _trained(f"cifar10_{name}"),
        ("CIFAR-10",),
    )
    for name, title in VISION_MODELS.items()
)

ARTEFACTS: tuple[Artefact, ...] = (
    Artefact(
        "train",
        "anomaly",
        "a2dl.anomaly.experiment:train_all",
        "Part II dense, Conv1D, LSTM, variational and linear autoencoders on NAB (about 5 min)",
        (*_trained(*(f"nab_{name}" for name in ANOMALY_MODELS)), "nab_selection.json"),
        ("NAB",),
    ),
    Artefact(
        "train",
        "nab-streaming",
        "a2dl.anomaly.streaming:train_and_save",
        "Part II streaming detectors for NAB scoring, one per file and architecture, and the "
        "chosen one fine-tuned on recent rows (needs `anomaly` first; 8 min)",
        _STREAMING,
        ("NAB", "nab_selection.json"),
    ),
    Artefact(
        "train",
        "nab-detector",
        "a2dl.anomaly.nab_detector:tune_and_save",
        "Part II streaming detector's constants, by two-fold cross-validation over files (5 min)",
        ("nab_detector.json",),
        ("NAB", "nab_selection.json", *_STREAMING),
    ),
    Artefact(
        "train",
        "sentiment-pretrain",
        "a2dl.text.pretraining:pretrain_and_save",
        "Part IV denoising pre-training of the encoder-decoder on training reviews",
        _trained("imdb_pretrained"),
        ("IMDB",),
    ),
    Artefact(
        "train",
        "sentiment",
        "a2dl.text.experiment:train_and_save",
        "Part IV classifier, fine-tuned from `sentiment-pretrain`'s weights",
        _trained("imdb_transformer"),
        ("IMDB", "NLTK stop words", weights_name("imdb_pretrained")),
    ),
    Artefact(
        "train",
        "sentiment-baseline",
        "a2dl.text.baseline:baseline",
        "Part IV TF-IDF + logistic regression, three stop-word policies (2 min)",
        ("imdb_baseline.json",),
        ("IMDB", "NLTK stop words"),
    ),
    Artefact(
        "train",
        "sentiment-ablation",
        "a2dl.text.ablation:ablate",
        "Part IV ablation: the recipe and each variant over several seeds, resumable (hours)",
        # the second pre-training cycle is made for its "two pre-training cycles" row
        ("imdb_ablation.json", *_trained("imdb_pretrained_2cycles")),
        ("IMDB", "NLTK stop words", weights_name("imdb_pretrained"), *_trained("imdb_transformer")),
    ),
    *_VISION_TRAINING,
    *(
        Artefact(
            "lr-range",
            f"vision-{name}",
            f"a2dl.vision.experiment:lr_range:{name}",
            f"Bonus: the learning-rate range test of {title}",
            (f"cifar10_{name}.lr_range.json",),
            ("CIFAR-10",),
        )
        for name, title in VISION_MODELS.items()
    ),
    Artefact(
        "bench",
        "sentiment",
        "a2dl.text.bench:benchmark",
        "Part IV Transformer: tokens per second and seconds per epoch, training and inference",
        (),
        ("IMDB", weights_name("imdb_transformer")),
    ),
    Artefact(
        "bench",
        "vision",
        "a2dl.vision.cost:benchmark",
        "Bonus: training and inference images per second of the four networks (the report's "
        "are on `--threads 2`)",
        ("cifar10_speed.json",),
        ("CIFAR-10", *(weights_name(f"cifar10_{name}") for name in VISION_MODELS)),
    ),
    Artefact(
        "bench",
        "report",
        "a2dl.chapter_timing:benchmark",
        "the report's execution time: each chapter in a fresh kernel and its slowest cells",
        (),
        ("every file above",),
    ),
    Artefact(
        "bench",
        "layout",
        "a2dl.layout_check:benchmark",
        "the rendered PDF's page rules: each float on its citation's page or the next, and "
        "the pages with a large blank band",
        (),
        ("the rendered report",),
    ),
)

# Results of earlier recipes that the report quotes and no command rebuilds, with why.
KEPT_RECORDS: dict[str, str] = {
    history_name("cifar10_efficientnet_regularised"): (
        "the first EfficientNet-B0 run, with dropout and stochastic depth"
    ),
}


def commands(verb: str) -> dict[str, tuple[str, str]]:
    """The CLI's table for ``verb``: name -> (target, what it does)."""
    return {a.name: (a.target, a.about) for a in ARTEFACTS if a.verb == verb}


def writer_of(file_name: str) -> Artefact | None:
    """The artefact whose command writes ``file_name`` (a name under ``weights/``)."""
    return next((a for a in ARTEFACTS if file_name in a.writes), None)


def rebuild_command(file_name: str) -> str:
    """How to get ``file_name`` back, named in every error about it."""
    writer = writer_of(file_name)
    if writer is not None:
        return writer.command
    if file_name in KEPT_RECORDS:
        return f"git checkout -- weights/{file_name}"  # a record no command rebuilds
    return "python -m a2dl train --help"


def vision_files() -> tuple[str, ...]:
    """What the bonus chapter reads: the four networks' weights and histories and their speeds."""
    trained = (f for a in _VISION_TRAINING for f in a.writes)
    return (*trained, *next(a for a in ARTEFACTS if a.name == "vision").writes)
