"""The one table of artefacts: complete, consistent with the code, and read by its users."""

from __future__ import annotations

from pathlib import Path

import pytest

from a2dl import artefacts, checkpoint, cli, paths
from a2dl.submission import default_bonus


def test_every_shipped_file_has_exactly_one_writer_or_is_a_kept_record():
    shipped = sorted(p.name for p in paths.weights_dir().iterdir() if p.is_file())
    for name in shipped:
        writers = [a.command for a in artefacts.ARTEFACTS if name in a.writes]
        expected = 0 if name in artefacts.KEPT_RECORDS else 1
        assert len(writers) == expected, (name, writers)


def test_every_file_the_table_promises_is_shipped():
    promised = {name for a in artefacts.ARTEFACTS for name in a.writes}
    missing = sorted(n for n in promised if not (paths.weights_dir() / n).is_file())
    assert missing == []


def test_what_an_artefact_reads_is_a_dataset_or_another_artefacts_file():
    written = {name for a in artefacts.ARTEFACTS for name in a.writes}
    datasets = {
        "NAB",
        "IMDB",
        "CIFAR-10",
        "NLTK stop words",
        "every file above",
        "the rendered report",
    }
    for artefact in artefacts.ARTEFACTS:
        for source in artefact.reads:
            assert source in datasets | written, (artefact.command, source)
            assert source not in artefact.writes


def test_the_cli_tables_come_from_the_artefacts():
    assert artefacts.commands("train") == cli.EXPERIMENTS
    assert artefacts.commands("bench") == cli.BENCHMARKS
    assert set(cli.LR_RANGES) == {f"vision-{name}" for name in artefacts.VISION_MODELS}
    for artefact in artefacts.ARTEFACTS:
        parsed = cli.build_parser().parse_args(artefact.command.split()[3:])
        assert parsed.command == artefact.verb


@pytest.mark.parametrize(
    ("file_name", "command"),
    [
        ("nab_lstm.pt", "python -m a2dl train anomaly"),
        ("nab_selection.json", "python -m a2dl train anomaly"),
        ("imdb_pretrained_2cycles.pt", "python -m a2dl train sentiment-ablation"),
        ("cifar10_vit.lr_range.json", "python -m a2dl lr-range vision-vit"),
        ("cifar10_speed.json", "python -m a2dl bench vision"),
        ("unknown.pt", "python -m a2dl train --help"),
    ],
)
def test_rebuild_command_names_the_writer(file_name, command):
    assert artefacts.rebuild_command(file_name) == command


def test_a_kept_record_is_restored_not_rebuilt(tmp_path: Path):
    (tmp_path / "cifar10_efficientnet_regularised.history.json").write_text("{")
    with pytest.raises(checkpoint.WeightsFileError) as caught:
        checkpoint.load_history(tmp_path / "cifar10_efficientnet_regularised.history.json")
    message = str(caught.value)
    assert "git checkout -- weights/cifar10_efficientnet_regularised.history.json" in message
    assert "rebuild it" not in message


def test_model_names_agree_with_the_model_modules():
    from a2dl.anomaly.models import ARCHITECTURES
    from a2dl.vision import registry

    assert set(artefacts.ANOMALY_MODELS) == set(ARCHITECTURES)
    assert {n: e.title for n, e in registry.MODELS.items()} == artefacts.VISION_MODELS


def test_the_bonus_archive_ships_what_the_table_says_the_bonus_reads():
    shipped = {p.name for p in default_bonus(paths.repo_root()).weights}
    assert shipped == set(artefacts.vision_files())
    assert {f"cifar10_{n}.pt" for n in artefacts.VISION_MODELS} <= shipped
