"""A small fit/evaluate loop for in-memory tensors, with progress bars and a history."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch
from torch import nn
from tqdm.auto import tqdm

from .history import History

Batch = tuple[torch.Tensor, torch.Tensor]


def batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Batch]:
    """Yield mini-batches of tensors that already sit on their device (no DataLoader copies)."""
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(x)
    if shuffle:
        order = torch.randperm(n, generator=generator).to(x.device)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            yield x[index], y[index]
    else:
        for start in range(0, n, batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Mean loss and accuracy of a classifier over ``(x, y)``."""
    loss_fn = loss_fn or nn.functional.cross_entropy
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for xb, yb in batches(x, y, batch_size):
        logits = model(xb)
        total_loss += loss_fn(logits, yb).item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


def fit(
    model: nn.Module,
    train: Batch,
    val: Batch | None = None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    batch_size: int = 128,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Train a classifier on in-memory tensors and return its per-epoch history.

    ``augment`` transforms each training batch (for example random flips);
    ``scheduler`` is stepped once per batch.
    """
    loss_fn = loss_fn or nn.functional.cross_entropy
    x_train, y_train = train
    history = History()
    steps = (len(x_train) + batch_size - 1) // batch_size
    bar = tqdm(total=epochs * steps, desc=desc, disable=not progress, leave=False)
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        seen, total_loss, correct = 0, 0.0, 0
        for xb, yb in batches(x_train, y_train, batch_size, shuffle=True, generator=generator):
            if augment is not None:
                xb = augment(xb)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            seen += len(yb)
            total_loss += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            bar.update(1)
        history.train_loss.append(total_loss / seen)
        history.train_acc.append(correct / seen)
        postfix = {"epoch": epoch + 1, "loss": f"{total_loss / seen:.3f}"}
        if val is not None:
            val_loss, val_acc = evaluate(model, *val, loss_fn=loss_fn)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            postfix["val_acc"] = f"{val_acc:.3f}"
        history.seconds.append(time.perf_counter() - start)
        bar.set_postfix(postfix)
    bar.close()
    return history
