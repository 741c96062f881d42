"""Shared bases for the DRF adapters of every app (plumbing only: no domain rules here)."""

from rest_framework.negotiation import BaseContentNegotiation


class AnyAcceptNegotiation(BaseContentNegotiation):
    """For endpoints whose body is a file (media, downloads): answer whatever the client accepts.

    <img> and <video> send `Accept: image/*` or `video/*`, curl and browsers anything; the first
    renderer (JSON) is chosen regardless, so errors still come back as JSON.
    """

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
