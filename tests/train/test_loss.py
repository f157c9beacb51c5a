import torch

from live_snn.train.loss import LossConfig, per_step_loss
from live_snn.train.windows import WindowBatch


def _batch(targets, loss_mask, rest_mask):
    t, b = targets.shape
    return WindowBatch(torch.zeros((t, b, 2, 1, 1)), targets, loss_mask, rest_mask)


def test_loss_is_cross_entropy_on_scaled_scores_at_masked_steps_only():
    targets = torch.tensor([[0], [1], [-1]])
    loss_mask = torch.tensor([[False], [True], [False]])
    rest_mask = torch.tensor([[False], [False], [True]])
    scores = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[0.5, 0.5]]], requires_grad=True)
    out = per_step_loss(scores, _batch(targets, loss_mask, rest_mask),
                        LossConfig(kind="ce", logit_scale=2.0, rest_weight=0.5))
    expected_class = -torch.log_softmax(torch.tensor([0.0, 2.0]), 0)[1]
    expected_rest = -torch.log_softmax(torch.tensor([1.0, 1.0]), 0).mean()
    assert torch.isclose(out.loss, expected_class + 0.5 * expected_rest)
    assert (out.correct, out.counted) == (1, 1)
    out.loss.backward()
    assert scores.grad[0].abs().sum() == 0  # masked step gets no gradient


def test_empty_masks_give_zero_loss_that_still_backpropagates():
    targets = torch.full((2, 1), -1)
    none = torch.zeros((2, 1), dtype=torch.bool)
    scores = torch.rand(2, 1, 3, requires_grad=True)
    out = per_step_loss(scores, _batch(targets, none, none), LossConfig(kind="ce"))
    assert float(out.loss.detach()) == 0.0
    out.loss.backward()
    assert scores.grad is not None


def test_mse_loss_pushes_only_the_target_group_of_a_silent_network():
    targets = torch.tensor([[2]])
    mask = torch.tensor([[True]])
    scores = torch.zeros(1, 1, 3, requires_grad=True)
    out = per_step_loss(scores, _batch(targets, mask, ~mask), LossConfig(kind="mse"))
    assert torch.isclose(out.loss.detach(), torch.tensor(1.0 / 3))
    out.loss.backward()
    assert scores.grad[0, 0].tolist()[:2] == [0.0, 0.0] and scores.grad[0, 0, 2] < 0
