import pytest
import torch
from torch import nn

from course_utils.core.history import History
from course_utils.core.training import batches, evaluate, fit


def test_batches_cover_every_row_once():
    x = torch.arange(10).float().unsqueeze(1)
    y = torch.arange(10)
    seen = torch.cat([yb for _, yb in batches(x, y, 3, shuffle=True, generator=torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10))
    sizes = [len(yb) for _, yb in batches(x, y, 3)]
    assert sizes == [3, 3, 3, 1]


def test_batches_reject_mismatched_inputs():
    with pytest.raises(ValueError, match="rows"):
        list(batches(torch.zeros(3, 1), torch.zeros(2), 2))


def test_fit_learns_a_separable_problem():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400, 2, generator=gen)
    y = (x[:, 0] + x[:, 1] > 0).long()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    history = fit(
        model, (x, y), (x, y), epochs=5, optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
        batch_size=32, generator=gen, progress=False,
    )
    assert isinstance(history, History)
    assert history.epochs == 5 and len(history.val_acc) == 5 and len(history.seconds) == 5
    assert history.train_loss[-1] < history.train_loss[0]
    loss, acc = evaluate(model, x, y)
    assert acc > 0.95
    assert loss == pytest.approx(history.val_loss[-1])


def test_evaluate_restores_training_mode():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    evaluate(model, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    assert model.training
