"""`tessera pull PROJECT RELEASE`: download a release and verify it (docs/RELEASES.md).

Downloads the release's manifest and every file over the REST API (resuming a partial file with an
HTTP Range request; a file whose content does not match is downloaded again), then verifies the
SHA-256 of every file, the Merkle root and the Ed25519 signature against the server's public key
(or a key file you trust, --public-key). Exit 0 when verified; 1 with one line per bad file; 2 when
the server cannot be reached or refuses.

Standard library and `cryptography` only: no Django.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from .verify import MANIFEST_NAME, load_public_key, sha256_file, verify_directory

CHUNK = 256 * 1024
DEFAULT_URL = "http://127.0.0.1:8000"


class PullError(Exception):
    """The server cannot be reached, refuses, or answers something unusable."""


class _DropAuthOnRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects (S3 presigned URLs) without sending our token to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        moved = urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc
        if new is not None and moved:
            new.remove_header("Authorization")
        return new


class Client:
    def __init__(self, base: str, token: str | None, timeout: float = 60.0):
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise PullError(f"not an http(s) URL: {base!r}")
        self.base = base  # ends with "/"
        self.token = token
        self.timeout = timeout
        self.opener = urllib.request.build_opener(_DropAuthOnRedirect())

    def open(self, path: str, headers: dict[str, str] | None = None):
        request = urllib.request.Request(self.base + path, headers=dict(headers or {}))  # noqa: S310 - http(s) only
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json, */*")
        return self.opener.open(request, timeout=self.timeout)

    def json(self, path: str):
        try:
            with self.open(path) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise PullError(f"{self.base}{path}: HTTP {error.code} {_detail(error)}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise PullError(f"{self.base}{path}: {error}") from None


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("detail", ""))
    except (ValueError, AttributeError, OSError):
        return ""


def _safe_path(root: Path, name: str) -> Path:
    """`root / name` for a clean relative POSIX path; refuses anything that could leave `root`."""
    pure = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or pure.is_absolute()
        or any(part in {"", ".", ".."} for part in name.split("/"))
    ):
        raise PullError(f"the server listed an unsafe file name: {name!r}")
    return root.joinpath(*pure.parts)


def download(client: Client, path: str, target: Path, sha256: str, size: int, log) -> str:
    """Bring `target` to the file's content: "kept" (already complete and intact), "resumed" (Range
    from the partial file's end) or "downloaded" (whole)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    exists = target.is_file()
    have = target.stat().st_size if exists else 0
    # An empty file (a YOLO label file of an image without boxes) is a file like any other: it is
    # kept only when it exists, and downloaded (created) when it does not.
    if exists and have == size and sha256_file(target)[0] == sha256:
        return "kept"
    headers = {}
    if 0 < have < size:
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{sha256}"'}
    quoted = urllib.parse.quote(path, safe="/")
    try:
        response = client.open(f"files/{quoted}", headers)
    except urllib.error.HTTPError as error:
        if error.code == 416 and headers:
            target.unlink()
            return download(client, path, target, sha256, size, log)
        raise PullError(f"{path}: HTTP {error.code} {_detail(error)}") from None
    except (urllib.error.URLError, OSError) as error:
        raise PullError(f"{path}: {error}") from None
    with response:
        resumed = response.status == 206
        with target.open("ab" if resumed else "wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
    log(f"{'resumed' if resumed else 'downloaded'} {path} ({size} bytes)")
    return "resumed" if resumed else "downloaded"


def pull(
    *,
    url: str,
    token: str | None,
    project: int,
    release: int,
    out: Path,
    verify_only: bool = False,
    public_key_path: Path | None = None,
    jobs: int = 4,
    log=lambda line: print(line, file=sys.stderr),
) -> list[str]:
    """Download (unless verify_only) and verify release `release` of `project` into `out`, `jobs`
    files at a time (releases with media have a file per item). Returns the problems ([] when
    verified). Raises PullError when the server fails us (the first failure; the downloads still
    running finish, and a rerun resumes where they stopped)."""
    if jobs < 1:
        raise PullError("--jobs must be at least 1")
    releases = f"{url.rstrip('/')}/api/projects/{project}/releases/"
    client = Client(releases, token)
    if public_key_path is not None:
        pem = public_key_path.read_bytes()
    else:
        pem = str(client.json("public-key/")["public_key_pem"]).encode("ascii")
    public_key = load_public_key(pem)
    if not verify_only:
        client = Client(f"{releases}{release}/", token)
        detail = client.json("")
        if detail.get("status") != "published":
            raise PullError(f"release {release} is {detail.get('status')!r}, not published")
        out.mkdir(parents=True, exist_ok=True)
        work = [
            (str(e["path"]), _safe_path(out, str(e["path"])), str(e["sha256"]), int(e["size"]))
            for e in detail["files"]
        ]  # every name checked before anything is written
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="tessera-pull") as pool:
            done = [
                pool.submit(download, client, path, target, sha256, size, log)
                for path, target, sha256, size in work
            ]
            for future in done:
                future.result()  # the first PullError, in file order
    manifest_path = out / MANIFEST_NAME
    if not manifest_path.is_file():
        return [f"missing: {MANIFEST_NAME}"]
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except ValueError:
        return [f"changed: {MANIFEST_NAME} (not JSON)"]
    if not isinstance(manifest, dict):
        return [f"changed: {MANIFEST_NAME} (not an object)"]
    return verify_directory(out, manifest, public_key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tessera", description="Download and verify Tessera releases.")
    commands = parser.add_subparsers(dest="command", required=True)
    pull_parser = commands.add_parser("pull", help="download a release and verify it")
    pull_parser.add_argument("project", type=int, help="project id")
    pull_parser.add_argument("release", type=int, help="release number")
    pull_parser.add_argument("--out", type=Path, help="directory (default: tessera-<project>-<release>)")
    pull_parser.add_argument(
        "--verify", action="store_true", help="only verify the files already in --out (no download)"
    )
    pull_parser.add_argument("--url", default=os.environ.get("TESSERA_URL", DEFAULT_URL), help="server URL")
    pull_parser.add_argument(
        "--token", default=os.environ.get("TESSERA_TOKEN"), help="API token (default: $TESSERA_TOKEN)"
    )
    pull_parser.add_argument(
        "--public-key", type=Path, help="a PEM public key you trust (default: ask the server)"
    )
    pull_parser.add_argument("--jobs", type=int, default=4, help="files downloaded at a time (default 4)")
    args = parser.parse_args(argv)
    out = args.out or Path(f"tessera-{args.project}-{args.release}")
    try:
        problems = pull(
            url=args.url,
            token=args.token,
            project=args.project,
            release=args.release,
            out=out,
            verify_only=args.verify,
            public_key_path=args.public_key,
            jobs=args.jobs,
        )
    except (PullError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if problems:
        for problem in problems:
            print(problem)
        return 1
    files = len(json.loads((out / MANIFEST_NAME).read_bytes()).get("files", []))
    print(f"OK: {files} files in {out} verified (SHA-256, merkle root, Ed25519 signature)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
