"""tessera_client: download and verify Tessera releases without Django (stdlib + `cryptography`).

    python -m tessera_client pull PROJECT RELEASE [--out DIR] [--verify] [--url URL] [--token TOKEN]

See docs/RELEASES.md ("The tessera CLI").
"""
