"""The record of a training run (loss and accuracy per epoch) and its plot."""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np


@dataclass
class History:
    """Loss and accuracy per epoch, for training and (optionally) validation data."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def plot(self, title: str | None = None) -> plt.Figure:
        """Plot the loss and accuracy curves; returns the matplotlib figure."""
        return plot_history(self, title=title)


def plot_history(history: History, title: str | None = None) -> plt.Figure:
    """Loss and accuracy per epoch, training and validation."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = np.arange(1, history.epochs + 1)
    ax_loss.plot(epochs, history.train_loss, marker="o", label="train")
    ax_acc.plot(epochs, history.train_acc, marker="o", label="train")
    if history.val_loss:
        ax_loss.plot(epochs, history.val_loss, marker="o", label="validation")
        ax_acc.plot(epochs, history.val_acc, marker="o", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
