"""Command line: ``python -m fooocus_widgets demo-models DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fooocus_widgets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo-models",
        help="create the small demo models (two SDXL checkpoints, LoRAs, styles) in DIR",
    )
    demo.add_argument("directory", type=Path, metavar="DIR")
    demo.add_argument("--overwrite", action="store_true", help="write the files again even if they exist")
    args = parser.parse_args(argv)

    if args.command == "demo-models":
        from .engine.demo import trained_weights_present, write_demo_models

        written = write_demo_models(args.directory, overwrite=args.overwrite)
        for path in written:
            print(f"wrote {path}")
        if not written:
            print(f"demo models already in {args.directory} (use --overwrite to write them again)")
        if trained_weights_present():
            what = 'trained on coloured shapes: try "a red circle on the left on a white background"'
        else:
            what = "random weights: the images are noise"
        print(f"models folder: {args.directory.resolve()} ({what})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
