"""Start-up of the built image: the standard library as a zip against loose .pyc and none.

Builds the image as the image tests do (docker, or podman on the debootstrap stand-in base),
then runs bench/image_start_probe.py inside one read-only container with the hardened flags of
the image tests and a tmpfs for the loose layout's cache. Prints the medians and the ratios
against the image as built; the baseline layouts are measured in the same container and run.

Usage: python bench/image_start.py [--rounds 15] [--image TAG]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the image tests' engine and stand-in helpers

from tests.image import standin  # noqa: E402
from tests.image.engine import detect  # noqa: E402
from tests.image.harness import BUILD_ARGS, HARDENED  # noqa: E402

TAG = "localhost/argo-python:bench-start"
PROBE = REPO / "bench" / "image_start_probe.py"
METRICS = (("ready_ms", "ms"), ("rss_mib", "MiB"), ("import_ms", "ms"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--image", help="an image built already (default: build one)")
    args = parser.parse_args()
    engine = detect()
    if engine is None:
        raise SystemExit("no container engine answers: apt-get install podman buildah runc")
    image = args.image or TAG
    if args.image is None:
        standin.provide_base(engine)
        engine.build(REPO, TAG, BUILD_ARGS)
    output = engine.run(
        "run",
        "--rm",
        *HARDENED,
        *engine.run_flags,
        "--tmpfs",
        "/tmp:rw,size=16m",  # noqa: S108 - a tmpfs inside the container, for its own cache
        "-v",
        f"{PROBE}:/bench/probe.py:ro",
        image,
        "python",
        "/bench/probe.py",
        str(args.rounds),
        timeout=60 + 10 * args.rounds,
    ).stdout
    results: dict[str, dict[str, list[float]]] = json.loads(output)
    built = {metric: statistics.median(values) for metric, values in results["as built"].items()}
    print(f"image {image}, {args.rounds} interleaved rounds, medians")
    print(f"{'layout':<14}" + "".join(f"{name:>18}" for name, _ in METRICS))
    for layout, metrics in results.items():
        cells = []
        for name, unit in METRICS:
            value = statistics.median(metrics[name])
            cells.append(f"{value:>8.1f} {unit:<3}{value / built[name]:>5.2f}x")
        print(f"{layout:<14}" + "".join(f"{cell:>18}" for cell in cells))


if __name__ == "__main__":
    main()
