"""The network: presets and config, the published parameter count, the step()/forward()
contract (equal results, carried state, independent streams), taps and clear errors."""

from __future__ import annotations

import pytest
import torch

from live_snn.model import (
    ModelConfig,
    ModelState,
    StepTaps,
    build_model,
    clone_state,
    count_parameters,
    reset_rows,
)


def stream(model, frames: torch.Tensor, state: ModelState):
    """step() over frames [T, B, ...] -> scores [T, B, K], final state, list of taps."""
    scores, taps = [], []
    for frame in frames:
        s, state, t = model.step(frame, state)
        scores.append(s)
        taps.append(t)
    return torch.stack(scores), state, taps


def assert_all_layers_active(taps: StepTaps) -> None:
    for name, rate in taps.spike_rates.items():
        assert rate.mean().item() > 0.005, f"{name} is silent: the comparison would be empty"
    for name, tap in taps.attention.items():
        assert tap.gate.std().item() > 1e-3, f"gate of {name} does not vary"


# ---- config and presets ----------------------------------------------------------------------
def test_presets_fill_defaults_and_fields_override():
    paper = ModelConfig(preset="paper")
    assert (paper.input_size, paper.channels, paper.num_blocks, paper.hidden) == ((128, 128), 128, 5, 512)
    assert (paper.num_classes, paper.T, paper.attention_blocks, paper.voting) == (11, 20, (3, 4), 10)
    lite = ModelConfig(preset="lite", attention="tim", channels=48)
    assert (lite.input_size, lite.channels, lite.attention, lite.hidden) == ((64, 64), 48, "tim", 256)
    nmnist = ModelConfig(preset="nmnist")
    assert (nmnist.input_size, nmnist.num_blocks, nmnist.num_classes, nmnist.attention_blocks) == \
        ((34, 34), 3, 10, (1, 2))
    assert ModelConfig.from_dict(lite.to_dict()) == lite


@pytest.mark.parametrize(("fields", "message"), [
    ({"preset": "huge"}, "unknown preset 'huge'"),
    ({"attention": "global"}, "attention='global'"),
    ({"encoder": "rate"}, "encoder='rate'"),
    ({"attention_blocks": (5,)}, r"attention_blocks \[5\] out of range for 5 blocks"),
    ({"input_size": (16, 16)}, "too small for 5 blocks"),
    ({"attention": "tim", "tim_blocks": (4,)}, "get TIM twice"),
    ({"tim_kernel": 4}, "tim_kernel must be odd"),
    ({"dropout": 1.0}, "dropout must be in"),
])
def test_bad_config_is_refused_with_a_clear_message(fields, message):
    with pytest.raises(ValueError, match=message):
        build_model(ModelConfig(**fields))


def test_paper_parameter_count_matches_the_published_layer_list():
    model = build_model(ModelConfig(preset="paper", attention="window"))
    C, T, k = 128, 20, 4
    convs = 2 * C * 3 * 3 + 4 * C * C * 3 * 3            # 3×3, no bias
    batch_norms = 5 * 2 * C                              # weight + bias (stats are buffers)
    # Reference TCJA (ridgerchu/TCJA src/tcja.py): Conv1d(T, T, k, bias=False) over channels
    # and Conv1d(C, C, k, bias=False) over time; TCJA(4, 4, 20, 128) in the DVS128 net.
    tcja = 2 * (C * C * k + T * T * k)
    # Reference FCs (src/dvs128.py, CextNet): nn.Linear(C*4*4, C*2*2, bias=False) and
    # nn.Linear(C*2*2, 110, bias=False).
    fcs = 2048 * 512 + 512 * 110
    expected = convs + batch_norms + tcja + fcs
    assert expected == 1_832_576
    assert count_parameters(model) == expected
    # The causal variant replaces the T×T×k channel conv by an L×k lag-channel kernel.
    causal = build_model(ModelConfig(preset="paper"))
    assert count_parameters(causal) == expected - 2 * (T * T * k - 4 * 4)


def test_layer_names_and_shapes(spike_input):
    model = build_model(ModelConfig(preset="nmnist", encoder="gac", tim_blocks=(0,))).eval()
    assert model.attention_layers == ["blocks.0.tim", "blocks.0.gac", "blocks.1.tcja",
                                      "blocks.2.tcja"]
    assert model.spiking_layers == ["blocks.0.lif", "blocks.0.tim.lif_in", "blocks.0.tim.lif_out",
                                    "blocks.1.lif", "blocks.2.lif", "lif_hidden", "lif_out"]
    x = spike_input(5, 3, 2, 34, 34)
    with torch.no_grad():
        scores, taps = model(x, return_taps=True)
        assert scores.shape == (5, 3, 10) and model(x).shape == (5, 3, 10)
        assert set(taps.attention) == set(model.attention_layers)
        assert all(t.gate.shape == t.branch_a.shape == t.branch_b.shape == (5, 3, 32)
                   for t in taps.attention.values())
        assert list(taps.spike_rates) == model.spiking_layers
        assert all(r.shape == (5, 3) for r in taps.spike_rates.values())
        step_scores, _, step_taps = model.step(x[0], model.init_state(3))
    assert step_scores.shape == (3, 10)
    assert all(t.gate.shape == (3, 32) for t in step_taps.attention.values())
    assert all(r.shape == (3,) for r in step_taps.spike_rates.values())
    assert ((scores >= 0) & (scores <= 1)).all()
    attention, rates = step_taps.to_numpy(row=1)
    assert attention["blocks.1.tcja"]["gate"].shape == (32,)
    assert isinstance(rates["lif_out"], float)


# ---- the streaming contract -----------------------------------------------------------------
@pytest.mark.parametrize(("preset", "steps"), [("lite", 8), ("paper", 3)])
def test_causal_step_equals_forward_with_gac_and_tim(preset, steps, active_model, spike_input):
    config = ModelConfig(preset=preset, attention="causal", encoder="gac", tim_blocks=(2,))
    model = active_model(config, steps=2)          # eval mode, BatchNorm statistics loaded
    h, w = config.input_size
    x = spike_input(2 * steps, 2, 2, h, w)
    with torch.inference_mode():
        expected, taps = model(x, return_taps=True)
        assert_all_layers_active(taps)
        # Two consecutive sequences, state carried from one to the next (no reset).
        first, state, _ = stream(model, x[:steps], model.init_state(2))
        second, _, step_taps = stream(model, x[steps:], state)
    torch.testing.assert_close(torch.cat([first, second]), expected, rtol=0, atol=1e-5)
    last = step_taps[-1]
    for name in model.attention_layers:
        torch.testing.assert_close(last.attention[name].gate, taps.at(-1).attention[name].gate,
                                   rtol=0, atol=1e-5)
    for name in model.spiking_layers:
        torch.testing.assert_close(last.spike_rates[name], taps.spike_rates[name][-1],
                                   rtol=0, atol=1e-5)


@pytest.mark.parametrize("attention", ["causal", "tim", "none"])
def test_multi_step_with_carried_state_equals_one_pass(attention, active_model, spike_input):
    config = ModelConfig(preset="lite", attention=attention, encoder="gac")
    model = active_model(config)
    x = spike_input(10, 2, 2, 64, 64)
    with torch.inference_mode():
        expected = model(x)
        a, state, _ = model.run(x[:3])
        b, state, _ = model.run(x[3:7], state)
        stepped, _, _ = stream(model, x[7:], state)
    assert expected.sum() > 0
    torch.testing.assert_close(torch.cat([a, b, stepped]), expected, rtol=0, atol=1e-5)


def test_rows_are_independent_streams(active_model, spike_input):
    config = ModelConfig(preset="nmnist")
    model = active_model(config)
    x = spike_input(6, 3, 2, 34, 34)
    other = x.clone()
    other[:, 1] = spike_input(6, 1, 2, 34, 34)[:, 0]
    with torch.inference_mode():
        a, _, _ = stream(model, x, model.init_state(3))
        b, _, _ = stream(model, other, model.init_state(3))
    assert torch.equal(a[:, [0, 2]], b[:, [0, 2]])
    assert not torch.equal(a[:, 1], b[:, 1])


def test_state_snapshot_reset_and_device(active_model, spike_input):
    config = ModelConfig(preset="nmnist", encoder="gac", tim_blocks=(1,))
    model = active_model(config)
    x = spike_input(4, 2, 2, 34, 34)
    with torch.inference_mode():
        state = model.init_state(2)
        for frame in x:
            _, state, _ = model.step(frame, state)
        snapshot = clone_state(state)
        before = [t.clone() for t in state.tensors()]
        resumed, _, _ = stream(model, x, state)
        assert all(torch.equal(a, b) for a, b in zip(before, state.tensors(), strict=True)), \
            "step() must not modify the state it is given"
        again, _, _ = stream(model, x, snapshot)      # seek: restore and replay
        assert torch.equal(resumed, again)

        fresh = model.init_state(2)
        half = reset_rows(state, torch.tensor([False, True]))
        for name, tensors in half.layers.items():
            for key, t in tensors.items():
                assert torch.equal(t[1], fresh.layers[name][key][1]), f"{name}.{key} not reset"
                assert torch.equal(t[0], state.layers[name][key][0])
        assert torch.equal(state.reset_rows([1]).layers["lif_out"]["v"], half.layers["lif_out"]["v"])
        moved = state.to("cpu")
    assert state.batch_size == 2 and moved.device.type == "cpu" and state.nbytes > 0
    assert state.select_rows([1]).batch_size == 1
    assert any(t.abs().sum() > 0 for t in state.tensors())


def test_rows_split_stack_and_merge_without_mixing_streams(active_model, spike_input):
    model = active_model(ModelConfig(preset="nmnist"), batch=3)
    x = spike_input(5, 3, 2, 34, 34)
    with torch.inference_mode():
        _, state, _ = stream(model, x, model.init_state(3))
        rows = state.split_rows()
        restacked = ModelState.stack_rows([rows[2], rows[0]])
        kept = state.where_rows(torch.tensor([True, False, True]), model.init_state(3))
    assert [r.batch_size for r in rows] == [1, 1, 1] and restacked.batch_size == 2
    assert any(t.abs().sum() > 0 for t in state.tensors())
    for name, tensors in state.layers.items():
        for key, t in tensors.items():
            assert torch.equal(rows[1].layers[name][key][0], t[1])
            assert torch.equal(restacked.layers[name][key][0], t[2])
            assert torch.equal(restacked.layers[name][key][1], t[0])
            merged = kept.layers[name][key]
            assert torch.equal(merged[0], t[0]) and torch.equal(merged[2], t[2])
            assert merged[1].abs().sum() == 0, f"{name}.{key}: row 1 should be the other state's"
            if t.dim() == 4:  # feature maps stay in the layout the blocks compute in
                for part in (restacked.layers[name][key], rows[1].layers[name][key], merged):
                    assert part.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(ValueError, match="at least one state"):
        ModelState.stack_rows([])


def test_step_and_forward_refuse_wrong_input(spike_input):
    model = build_model(ModelConfig(preset="nmnist"))
    with pytest.raises(RuntimeError, match=r"call model.eval\(\) first"):
        model.step(spike_input(2, 2, 34, 34), model.init_state(2))
    model.eval()
    with pytest.raises(ValueError, match=r"expected \[B, 2, 34, 34\]"):
        model.step(spike_input(2, 2, 64, 64), model.init_state(2))
    with pytest.raises(ValueError, match=r"expected \[T, B, 2, 34, 34\]"):
        model(spike_input(2, 34, 34))
    with pytest.raises(ValueError, match="state holds 3 streams but the input has batch size 2"):
        model.step(spike_input(2, 2, 34, 34), model.init_state(3))
    other = build_model(ModelConfig(preset="nmnist", encoder="gac")).eval()
    with pytest.raises(ValueError, match="made by a different model"):
        other.step(spike_input(2, 2, 34, 34), model.init_state(2))


def test_training_forward_back_propagates_to_every_parameter(spike_input):
    torch.manual_seed(0)
    config = ModelConfig(preset="nmnist", encoder="gac", tim_blocks=(0,), attention="causal")
    model = build_model(config).train()
    with torch.no_grad():  # as training soon makes them: large enough for the FCs to fire
        model.fc_hidden.weight.mul_(6.0)
        model.fc_out.weight.mul_(12.0)
    x = spike_input(4, 3, 2, 34, 34)
    scores, taps = model(x, return_taps=True)
    assert taps.spike_rates["lif_out"].mean() > 0
    torch.nn.functional.cross_entropy(10 * scores.flatten(0, 1), torch.arange(12) % 10).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    silent = [n for n, p in model.named_parameters() if p.grad.abs().sum() == 0]
    assert not silent, f"no gradient reaches {silent}"


def test_uint8_frames_are_accepted(spike_input):
    model = build_model(ModelConfig(preset="nmnist")).eval()
    x = spike_input(3, 1, 2, 34, 34)
    with torch.no_grad():
        assert torch.equal(model(x.to(torch.uint8)), model(x))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_step_matches_cpu_forward(active_model, spike_input):
    config = ModelConfig(preset="lite", encoder="gac")
    model = active_model(config)
    x = spike_input(6, 2, 2, 64, 64)
    with torch.inference_mode():
        expected = model(x)
        model.cuda()
        got, _, _ = stream(model, x.cuda(), model.init_state(2))
    # Different kernels: compare the decision, not the last bit.
    assert (got.cpu() - expected).abs().mean() < 0.02
