"""Check a downloaded release: ``python -m exports.verify RELEASE_DIR --public-key release-key.pem``.

Prints each problem (missing, changed or extra files, a bad Merkle root or signature) and exits 1, or
prints "OK: N files, merkle root R, key K" and exits 0. Needs only the `cryptography` package.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from exports.manifest import MANIFEST_NAME, key_id, public_key_from_pem, verify_release


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m exports.verify", description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="the release directory (with manifest.json)")
    parser.add_argument(
        "--public-key", type=Path, required=True, help="the server's Ed25519 public key (PEM)"
    )
    args = parser.parse_args(argv)
    public_key = public_key_from_pem(args.public_key.read_bytes())
    try:
        manifest = json.loads((args.release / MANIFEST_NAME).read_bytes())
    except (OSError, ValueError) as error:
        print(f"{MANIFEST_NAME}: cannot be read ({error.__class__.__name__})")
        return 1
    problems = verify_release(args.release, manifest, public_key)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(
        f"OK: {len(manifest['files'])} files, merkle root {manifest['merkle_root']}, key {key_id(public_key)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
