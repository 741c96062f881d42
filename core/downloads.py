"""One protection for every file the API hands out (media, release files, CSV reports).

A file a user uploaded or an export built is data, never a page of ours: the browser must not sniff
it into HTML, run it with our origin's rights, or let another site embed it. Every download answer
(a redirect to a signed URL too) carries the headers below; tests/core/
test_download_headers.py checks them on every download endpoint.
"""

from django.http import HttpResponse
from django.utils.http import content_disposition_header

DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",  # the declared type is the type: no sniffing into HTML
    "Content-Security-Policy": "sandbox",  # opened directly, it runs in a unique origin without scripts
    "Cross-Origin-Resource-Policy": "same-origin",  # other sites cannot embed or read it
}


def protect_download(response: HttpResponse) -> HttpResponse:
    """`response` with the download headers set (returned for chaining)."""
    for header, value in DOWNLOAD_HEADERS.items():
        response[header] = value
    return response


def attachment(response: HttpResponse, filename: str) -> HttpResponse:
    """`response` as a protected attachment named `filename` (RFC 6266, non-ASCII names encoded)."""
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return protect_download(response)
