"""``live-snn convert IN OUT``: a recording in another format (by OUT's extension), through
faery, verified by reading it back."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "convert",
        help="convert a recording to AEDAT4, Prophesee RAW or DAT, Event Stream or CSV",
        description="Write the events of the recording IN to OUT in the format its extension "
        "names (.aedat4, .raw, .dat, .es, .csv), through faery; the file is read back and "
        "compared (count and checksum) before it takes its name. IN is any recording "
        "live_snn reads (see `live-snn info`); 'evt2:320x320:FILE' for a headerless "
        "Prophesee capture.",
    )
    parser.add_argument("input", metavar="IN", help="the recording to convert")
    parser.add_argument("out", metavar="OUT", help="the file to write (.aedat4, .raw, .dat, "
                        ".es, .csv)")
    parser.add_argument("--evt", choices=("2", "3"), default="2",
                        help="EVT version of a .raw output (default 2; 3 only for recordings "
                        "shorter than 16.8 s: faery 0.7.1 reads EVT 3.0 back wrong past its "
                        "first time wrap; faery does not write 2.1)")
    parser.add_argument("--from-zero", action="store_true",
                        help="shift the timestamps so that the first event is at 0 us (needed "
                        "for .raw, .dat and .es when the recording has wall-clock timestamps)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from live_snn.outputs import OutputError, check_outputs, named
    from live_snn.sinks.event_files import convert, output_format
    from live_snn.sources.spec import open_recording

    out = Path(args.out)
    output_format(out)
    check_outputs([named("OUT", out)], inputs=[named("IN", Path(args.input))],
                  overwrite=args.overwrite)
    if out.exists() and not args.overwrite:
        raise OutputError(f"OUT {out} exists: refusing to replace it (choose another name, "
                          "or pass --overwrite)")
    with open_recording(args.input) as source:
        print(f"converting {source.description} to {out}", flush=True)
        result = convert(source, source.resolution, out, raw_version=f"evt{args.evt}",
                         from_zero=args.from_zero)
    span = (f", {(result.last_us - result.first_us) / 1e6:.3f} s of events"
            if result.first_us is not None else "")
    shifted = f", timestamps shifted by -{result.shift_us} us" if result.shift_us else ""
    print(f"wrote {result.events} events{span} to {result.path} ({result.format}){shifted}")
    print(f"verified: read back {result.events} events, checksum {result.checksum}")
    if result.damage is not None:
        print(f"error: {result.damage}")
        return 1
    return 0
