"""Options shared by the commands that run the engine (run, gui, export): the model, the
device, the convolutions' arithmetic (``--conv-dtype``), smoothing and onset, resets,
backpressure, the replay speed and torch's threads, and
the :class:`~live_snn.engine.config.EngineConfig` they make."""

from __future__ import annotations

import argparse

from live_snn.errors import LiveSnnError
from live_snn.pacing import check_speed
from live_snn.precision import CONV_DTYPES


def parse_speed(text: str) -> float | None:
    if text == "max":
        return None
    return check_speed(text, fastest="'max'", error=argparse.ArgumentTypeError)


def add_engine_arguments(parser: argparse.ArgumentParser, *, live: bool = True) -> None:
    """Options shared by the commands that run the engine (run, gui, export); ``live``
    adds the backpressure options, which only matter for live sources."""
    parser.add_argument("--model", metavar="CKPT",
                        help="checkpoint (.safetensors); default: the bundled model")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    # Each predictor setting defaults to the model's own (`live-snn info CKPT` shows them):
    # its confidence scale and threshold were fitted under them.
    parser.add_argument("--smoothing", choices=("ema", "mean"), default=None,
                        help="how the class scores are smoothed over steps (default: the "
                             "model's, else ema)")
    parser.add_argument("--tau", type=float, default=None, metavar="STEPS",
                        help="EMA time constant in steps, when the smoothing is ema "
                             "(default: the model's, else 5)")
    parser.add_argument("--mean-window", type=int, default=None, metavar="N",
                        help="steps averaged by --smoothing mean (default: the model's, else 10)")
    parser.add_argument("--onset-steps", type=int, default=None, metavar="M",
                        help="steps a new label must hold before its onset (default: the "
                             "model's, else 3)")
    parser.add_argument("--uncertain-below", type=float, default=None, metavar="P",
                        help="confidence under P is reported as uncertain (default: the "
                             "model's own threshold, chosen on validation data when it was "
                             "calibrated, under its own smoothing; 0: never)")
    parser.add_argument("--reset-on-silence", type=float, default=None, metavar="MS",
                        help="reset the model state after MS ms without events")
    parser.add_argument("--conv-dtype", choices=CONV_DTYPES, default="float32",
                        help="arithmetic of the network's convolutions (default float32). "
                             "bfloat16, on a CPU with AVX512-BF16 or AMX: a step of 8 batched "
                             "streams about a quarter cheaper, of one stream about 8 %% (measured "
                             "on Zen 4), with slightly different spikes (docs/benchmarks.md); "
                             "refused where it would be emulated")
    parser.add_argument("--allow-remap", action="store_true",
                        help="run the model on a sensor other than the one it was trained on "
                             "(its events are cropped and downscaled to the model's input)")
    if live:
        parser.add_argument("--backpressure", choices=("skip-oldest", "process-all"),
                            default="skip-oldest",
                            help="live sources falling behind: skip the oldest bins (default) "
                                 "or process all and report the lag")
        parser.add_argument("--max-pending", type=int, default=4, metavar="BINS",
                            help="closed bins allowed to wait for the model (default 4)")
        parser.add_argument("--stall-timeout", type=float, default=10.0, metavar="S",
                            help="network streams: report a stream that sends nothing for S "
                                 "seconds as stalled, then reconnect (default 10)")
        parser.add_argument("--max-reconnects", type=int, default=10, metavar="N",
                            help="network streams: reconnections allowed over the whole "
                                 "session (default 10)")
        parser.add_argument("--max-jump", type=float, default=60.0, metavar="S",
                            help="live sources: an event clock that jumps by more than S "
                                 "seconds is re-anchored and the model reset (default 60)")


# EngineConfig names a bad value by its field; the user typed the option.
_OPTION_OF_FIELD = {
    "ema_tau_steps": "--tau", "mean_window": "--mean-window", "onset_steps": "--onset-steps",
    "uncertain_below": "--uncertain-below", "max_pending_bins": "--max-pending",
    "reset_on_silence_ms": "--reset-on-silence", "stall_timeout_s": "--stall-timeout",
    "max_reconnects": "--max-reconnects", "live_max_jump_s": "--max-jump",
    "batch_gather_ms": "--gather-ms", "conv_dtype": "--conv-dtype",
}


def engine_config_from_args(args: argparse.Namespace, *, speed: float | None):
    from live_snn.engine.config import EngineConfig

    options = dict(
        device=args.device,
        speed=speed,
        smoothing=args.smoothing,
        ema_tau_steps=args.tau,
        mean_window=args.mean_window,
        onset_steps=args.onset_steps,
        uncertain_below=args.uncertain_below,
        reset_on_silence_ms=args.reset_on_silence,
        record_taps=bool(getattr(args, "taps", False)),
        allow_remap=bool(getattr(args, "allow_remap", False)),
        conv_dtype=getattr(args, "conv_dtype", "float32"),
        # The command owns its process: let malloc keep a step's freed blocks for the next.
        keep_freed_memory=True,
    )
    if hasattr(args, "backpressure"):
        options.update(backpressure=args.backpressure, max_pending_bins=args.max_pending,
                       stall_timeout_s=args.stall_timeout, max_reconnects=args.max_reconnects,
                       live_max_jump_s=args.max_jump)
    if hasattr(args, "gather_ms"):
        options.update(batch_gather_ms=args.gather_ms)
    try:
        config = EngineConfig(**options)
    except ValueError as exc:
        message = str(exc)
        field = message.split(" ", 1)[0]
        if field in _OPTION_OF_FIELD:
            message = _OPTION_OF_FIELD[field] + message[len(field):]
        raise LiveSnnError(message) from None
    if config.conv_dtype != "float32":  # refused now, before any output is opened
        from live_snn.engine.runner import check_conv_dtype, resolve_device

        check_conv_dtype(config.conv_dtype, resolve_device(config.device))
    return config


def add_speed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=parse_speed, default=1.0, metavar="X|max",
                        help="recordings: replay at X times real time, or 'max' (default 1)")


def set_torch_threads(threads: int | None) -> None:
    """``--threads N``: torch's CPU threads for this process (None: torch's choice)."""
    if threads is None:
        return
    if threads < 1:
        raise LiveSnnError(f"--threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)
