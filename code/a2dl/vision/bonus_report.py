"""The bonus chapter's derived numbers and the sentences its prose branches on.

Computed here from the trained networks' records (recipes, range tests, speeds, histories) so
that the chapter only formats them, and so that each branch of the prose is tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from a2dl.numberstyle import small_number
from a2dl.report import spoken_list

# ResNet-20 on CIFAR-10 as He et al. (2016) report it: 8.75% error after 64,000 steps of 128
HE_RESNET20 = {"accuracy": 0.9125, "steps": 64_000, "batch": 128}
FAST_CIFAR_CITATION = "[@smith2019super]"
AGREEMENT = 0.25  # a peak within 25% of the range test's suggestion is the suggestion, rounded
LEVEL_IMAGES = 5  # networks this few validation images apart are level: a tie in all but name


def off_rule_sentence(title: str, peak: float, suggested: float, dips: list) -> str:
    """Why a recipe keeps a peak that its range test does not suggest (``dips``: the curve's
    (learning rate, smoothed loss) minima)."""
    if len(dips) < 2:
        return (
            f"The recipe of {title} keeps a peak of {small_number(peak)}, not the "
            f"{small_number(suggested)} its range test suggests."
        )
    (lr_a, loss_a), (lr_b, loss_b) = sorted(sorted(dips, key=lambda dip: dip[1])[:2])
    return (
        f"The curve of {title} dips twice, to a smoothed loss of {loss_a:.2f} at a learning "
        f"rate of {small_number(lr_a)} and to {loss_b:.2f} at {small_number(lr_b)}. Dips this "
        "close in depth are within the noise of a single short range test, which cannot rank "
        f"them, so its recipe keeps {small_number(peak)}, about a tenth of the second dip and "
        f"the rate the fast-CIFAR recipes use at this batch size {FAST_CIFAR_CITATION}."
    )


def rounded_note(titles: dict[str, str], recipes: pd.DataFrame, off_rule: set[str]) -> str:
    """The peaks that differ from their suggestion by more than rounding but less than the
    tolerance of ``compare.peaks_off_the_rule``: said, not left for the reader to find."""
    rounded = [
        n
        for n in titles
        if n not in off_rule
        and abs(recipes.loc[n, "peak_lr"] / recipes.loc[n, "range_test_lr"] - 1) > AGREEMENT
    ]
    if not rounded:
        return ""
    listed = spoken_list(
        f"{titles[n]} ({small_number(recipes.loc[n, 'peak_lr'])}, against "
        f"{small_number(recipes.loc[n, 'range_test_lr'])})"
        for n in rounded
    )
    return (
        f"The peak{'' if len(rounded) == 1 else 's'} of {listed} "
        f"{'differs' if len(rounded) == 1 else 'differ'} from the suggestion by less than a "
        "factor of two, which we count as agreement: a range test locates the best rate only "
        "to within about that factor, since its curve is smoothed and measured on one short run."
    )


def retrained_note(titles: list[str]) -> str:
    """The networks trained by the shared recipe instead of a budgeted one of their own."""
    if not titles:
        return ""
    return (
        f"{spoken_list(titles)} {'was' if len(titles) == 1 else 'were'} trained by a shared "
        "recipe (AdamW, without a budget), as its row of @tbl-bonus-recipe shows; the dot of "
        "@fig-bonus-lr-range marks the peak of the recipe above."
    )


def peak_notes(
    titles: dict[str, str],
    recipes: pd.DataFrame,
    off_rule: dict[str, list],
    peaks: dict[str, float],
    not_retrained: list[str],
) -> str:
    """Every sentence on how the recipes' peaks relate to their range tests."""
    notes = [
        off_rule_sentence(titles[n], peaks[n], recipes.loc[n, "range_test_lr"], dips)
        for n, dips in off_rule.items()
    ]
    notes += [rounded_note(titles, recipes, set(off_rule))]
    notes += [retrained_note([titles[n] for n in not_retrained])]
    return " ".join(note for note in notes if note) or "Every peak agrees with its range test."


@dataclass(frozen=True)
class Costs:
    """What each network costs, as ratios to ResNet-20 and in minutes per epoch."""

    mac_ratio: float  # EfficientNet-B0's multiply-accumulates per image over ResNet-20's
    infer_ratio: float  # its inference images per second over ResNet-20's
    train_ratio: float  # its training images per second over ResNet-20's (same batches)
    resnet_epoch_minutes: float  # wall minutes per epoch of ResNet-20 on the range test's threads
    full_b0_ratio: float  # how many times slower the full-width B0 trains than ResNet-20
    full_b0_minutes: float  # minutes per epoch of the full-width B0


def costs(
    table: pd.DataFrame,
    speeds: dict,
    range_tests: dict[str, dict],
    n_train: int,
    batch_size: int,
) -> Costs:
    """``range_tests``: each network's range-test record (its CPU seconds per step and the
    threads that spent them)."""
    step_cost = {n: test["cpu_seconds_per_step"] for n, test in range_tests.items()}
    threads = range_tests["resnet"]["threads"]
    resnet_epoch = step_cost["resnet"] * -(-n_train // batch_size) / threads / 60
    training = speeds["training_images_per_second"]
    full_b0_ratio = training["resnet"] / training["efficientnet-full-width"]
    return Costs(
        mac_ratio=table.loc["efficientnet", "macs"] / table.loc["resnet", "macs"],
        infer_ratio=table.loc["efficientnet", "images_per_second"]
        / table.loc["resnet", "images_per_second"],
        train_ratio=step_cost["resnet"] / step_cost["efficientnet"],
        resnet_epoch_minutes=resnet_epoch,
        full_b0_ratio=full_b0_ratio,
        full_b0_minutes=resnet_epoch * full_b0_ratio,
    )


def optimiser_steps(recipes: pd.DataFrame, n_train: int) -> dict[str, int]:
    """Each network's optimiser steps: epochs × batches per epoch."""
    return {
        n: int(recipes.loc[n, "epochs"]) * -(-n_train // int(recipes.loc[n, "batch"]))
        for n in recipes.index
    }


NETWORK_COUNTS = ("none of the networks", "one of the networks", "two of the networks",
                  "three of the networks", "all four networks")  # fmt: skip


def still_rising(histories: dict[str, pd.DataFrame]) -> str:
    """How many networks still gained validation accuracy in their last epoch, in words."""
    last_two = [h["val_accuracy"].iloc[-2:].to_numpy() for h in histories.values()]
    return NETWORK_COUNTS[sum(last >= before for before, last in last_two)]


def final_gap(histories: dict[str, pd.DataFrame]) -> float:
    """The largest gap between training and validation accuracy at any network's last epoch."""
    return max((h["train_accuracy"] - h["val_accuracy"]).iloc[-1] for h in histories.values())


@dataclass(frozen=True)
class ValidationChoice:
    """The network validation ranks first, the one behind it, and how many validation images
    separate them: a choice made a few images apart is a tie in all but name, and the text
    says so instead of naming a winner."""

    chosen: str
    runner_up: str
    margin_images: int

    @property
    def level(self) -> bool:
        return self.margin_images <= LEVEL_IMAGES


def validation_choice(val_accuracy: pd.Series | dict, validation_size: int) -> ValidationChoice:
    """The network the comparison examines further: the highest validation accuracy. The test
    split plays no part in the choice."""
    accuracy = pd.Series(val_accuracy)
    chosen = str(accuracy.idxmax())  # the first listed on a tie
    runner_up = str(accuracy.drop(chosen).idxmax())
    margin = round((accuracy[chosen] - accuracy[runner_up]) * validation_size)
    return ValidationChoice(chosen, runner_up, margin)
