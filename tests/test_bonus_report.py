"""The bonus chapter's facts and the sentences its prose branches on, on small known cases."""

from __future__ import annotations

import pandas as pd
import pytest

from a2dl.vision import bonus_report

TITLES = {"vit": "ViT", "resnet": "ResNet-20"}


def recipes(peaks: dict[str, float], suggested: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"peak_lr": peaks, "range_test_lr": suggested})


def test_every_peak_agrees_when_each_is_within_rounding_of_its_suggestion():
    table = recipes({"vit": 1e-3, "resnet": 0.1}, {"vit": 1.1e-3, "resnet": 0.09})
    note = bonus_report.peak_notes(TITLES, table, {}, {"vit": 1e-3, "resnet": 0.1}, [])
    assert note == "Every peak agrees with its range test."


def test_a_peak_off_by_less_than_the_tolerance_is_said_to_agree_as_rounding():
    table = recipes({"vit": 1e-3, "resnet": 0.1}, {"vit": 1.6e-3, "resnet": 0.1})
    note = bonus_report.peak_notes(TITLES, table, {}, {"vit": 1e-3, "resnet": 0.1}, [])
    assert note.startswith("The peak of ViT (")
    assert "differs from the suggestion by less than a factor of two" in note


def test_a_curve_with_two_dips_is_explained_and_a_single_dip_is_stated():
    two = bonus_report.off_rule_sentence("ResNet-20", 0.1, 3.0, [(1.0, 1.5), (3.0, 1.4), (9, 2)])
    assert "dips twice, to a smoothed loss of 1.50 at a learning rate of 1" in two
    assert "and to 1.40 at 3" in two and "[@smith2019super]" in two
    one = bonus_report.off_rule_sentence("ViT", 1e-3, 0.01, [(0.01, 1.2)])
    assert one.startswith("The recipe of ViT keeps a peak of") and "suggests." in one


@pytest.mark.parametrize(("titles", "verb"), [(["ViT"], " was "), (["ViT", "VGG"], " were ")])
def test_the_shared_recipe_sentence_agrees_in_number(titles, verb):
    assert verb in bonus_report.retrained_note(titles)
    assert bonus_report.retrained_note([]) == ""


def test_costs_are_ratios_to_resnet_and_minutes_per_epoch():
    table = pd.DataFrame(
        {"macs": [40.0, 10.0], "images_per_second": [100.0, 300.0]},
        index=["resnet", "efficientnet"],
    )
    speeds = {"training_images_per_second": {"resnet": 60.0, "efficientnet-full-width": 20.0}}
    tests = {"resnet": {"cpu_seconds_per_step": 2.0, "threads": 2},
             "efficientnet": {"cpu_seconds_per_step": 4.0, "threads": 2}}  # fmt: skip
    cost = bonus_report.costs(table, speeds, tests, n_train=1200, batch_size=100)
    assert cost.mac_ratio == 0.25 and cost.infer_ratio == 3.0 and cost.train_ratio == 0.5
    assert cost.resnet_epoch_minutes == pytest.approx(12 * 2.0 / 2 / 60)
    assert cost.full_b0_ratio == 3.0
    assert cost.full_b0_minutes == pytest.approx(3 * 12 / 60)


def test_steps_rising_networks_and_the_final_gap():
    table = pd.DataFrame({"epochs": [2, 3], "batch": [100, 128]}, index=["vit", "resnet"])
    assert bonus_report.optimiser_steps(table, 1000) == {"vit": 20, "resnet": 24}
    histories = {
        "vit": pd.DataFrame({"val_accuracy": [0.5, 0.6], "train_accuracy": [0.6, 0.9]}),
        "resnet": pd.DataFrame({"val_accuracy": [0.7, 0.6], "train_accuracy": [0.7, 0.7]}),
    }
    assert bonus_report.still_rising(histories) == "one of the networks"
    assert bonus_report.final_gap(histories) == pytest.approx(0.3)
