"""Measures `ecr-audit collect` on one account holding many images, served
by moto (a measurement, not a test: it asserts nothing about time).

    cargo build --release
    .venv/bin/python scripts/moto/bench.py target/release/ecr-audit [--repositories 50] [--images 200]

(with CARGO_TARGET_DIR set, the binary is under that directory instead).
Seeds the caller's account in us-east-1 with REPOSITORIES × IMAGES images
directly in moto's backend, runs the collector against it once per
--runs, and prints the wall time, what was collected and the requests made.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--repositories", type=int, default=50)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-concurrency", type=int, default=16)
    args = parser.parse_args()

    harness = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "harness.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = json.loads(harness.stdout.readline())["port"]
        started = time.monotonic()
        harness.stdin.write(json.dumps({
            "cmd": "seed", "world": "bulk",
            "repositories": args.repositories, "images": args.images,
        }) + "\n")
        harness.stdin.flush()
        answer = json.loads(harness.stdout.readline())
        if not answer.get("ok"):
            sys.exit(f"seeding failed: {answer}")
        print(f"seeded {answer['world']['repositories']} repositories, "
              f"{answer['world']['images']} images in {time.monotonic() - started:.1f}s", file=sys.stderr)

        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tempfile.gettempdir(),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
        }
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "inventory.json")
            for run in range(1, args.runs + 1):
                started = time.monotonic()
                cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
                done = subprocess.run(
                    [args.binary, "collect", "-o", out, "--region", "us-east-1", "--quiet",
                     "--max-concurrency", str(args.max_concurrency)],
                    env=env, cwd=tmp, capture_output=True, text=True,
                )
                seconds = time.monotonic() - started
                cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
                # The collector's own CPU time (moto runs in another process):
                # far below the wall time, the server is what the collector waits on.
                collector_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
                    cpu_after.ru_stime - cpu_before.ru_stime)
                if done.returncode != 0:
                    sys.exit(f"collect exited {done.returncode}:\n{done.stderr}")
                with open(out) as f:
                    inventory = json.load(f)
                repos = sum(len(r["repositories"]) for a in inventory["accounts"] for r in a["regions"])
                images = sum(len(p["images"]) for a in inventory["accounts"] for r in a["regions"] for p in r["repositories"])
                counts = inventory.get("requestCounts", {})
                print(f"run {run}: {seconds:.2f}s wall, {collector_cpu:.2f}s collector CPU, "
                      f"{repos} repositories, {images} images, "
                      f"{sum(counts.values())} requests ({images / seconds:.0f} images/s)")
            print(json.dumps(counts, indent=2, sort_keys=True))
    finally:
        harness.stdin.close()
        harness.wait(timeout=30)


if __name__ == "__main__":
    main()
