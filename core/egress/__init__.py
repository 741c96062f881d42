"""The egress guard: every outbound HTTP request Tessera makes goes through fetch() or stream().

A URL that a user supplied (media URLs, S3-compatible endpoints, webhooks) must never let the
server reach itself, the private network or a cloud metadata service (SSRF). The guard:

- accepts http and https only, and rejects URLs with userinfo, control characters, backslashes or
  non-canonical numeric hosts (``http://2130706433/``, ``http://0x7f.0.0.1/``);
- resolves the host once, checks *every* resolved address against the blocked ranges (policy.py), and
  then connects to exactly those addresses (the socket is opened to the validated IP while the Host
  header, TLS SNI and certificate verification use the hostname), so DNS rebinding between the
  check and the connection is impossible;
- follows redirects itself, repeating the whole check on every hop, up to a bounded number;
- stops reading past ``max_bytes`` and enforces a connect timeout plus a total deadline that also
  covers a server dripping one byte at a time (a watchdog shuts the socket down at the deadline).

Standard library only (http.client, ssl, socket). Environment proxies are never used: a proxy would
resolve the name again and defeat the pinning. See docs/EGRESS.md.

One module per part: policy.py (URL syntax, blocked ranges, limits), resolver.py (resolve once,
check every address), connection.py (pinned connections, deadline watchdog), client.py (check_url,
fetch, stream).
"""

from .client import CHUNK_SIZE, USER_AGENT, EgressResponse, EgressStream, check_url, fetch, stream
from .policy import EgressError, IPAddress, IPNetwork
from .resolver import Resolver

__all__ = [
    "CHUNK_SIZE",
    "USER_AGENT",
    "EgressError",
    "EgressResponse",
    "EgressStream",
    "IPAddress",
    "IPNetwork",
    "Resolver",
    "check_url",
    "fetch",
    "stream",
]
