"""Reading a Label Studio config safely: defusedxml (no DTD, entities or external references), size,
element-count and depth limits; every refusal a LabelStudioConfigError with a stable `reason`.

Pure Python, no Django."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from .report import lower_tag

MAX_CONFIG_BYTES = 256 * 1024


MAX_ELEMENTS = 20_000


MAX_DEPTH = 64


class LabelStudioConfigError(ValueError):
    """The config cannot be read. `reason` is stable: too_large, syntax, dtd_forbidden,
    entities_forbidden, external_reference_forbidden, too_many_elements, too_deep, not_a_view,
    nothing_translatable."""

    def __init__(self, reason: str, message: str, untranslated: list[dict] | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.untranslated = untranslated or []


def parse_labelstudio_config(xml: str | bytes) -> Element:
    """Parse safely or raise LabelStudioConfigError."""
    try:
        raw = xml.encode() if isinstance(xml, str) else xml
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. "\ud800" in a JSON request
        raise LabelStudioConfigError(
            "syntax", f"The config contains a character that is not valid Unicode (at {error.start})."
        ) from error
    if len(raw) > MAX_CONFIG_BYTES:
        raise LabelStudioConfigError(
            "too_large", f"A Label Studio config may be at most {MAX_CONFIG_BYTES // 1024} KB."
        )
    if not raw.strip():
        raise LabelStudioConfigError("syntax", "The Label Studio config is empty.")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as error:
        raise LabelStudioConfigError(
            "dtd_forbidden", "The config declares a DTD (<!DOCTYPE ...>); DTDs are not accepted."
        ) from error
    except EntitiesForbidden as error:
        raise LabelStudioConfigError(
            "entities_forbidden", "The config declares XML entities; entities are not accepted."
        ) from error
    except ExternalReferenceForbidden as error:
        raise LabelStudioConfigError(
            "external_reference_forbidden", "The config refers to an external resource; that is not accepted."
        ) from error
    except DefusedXmlException as error:
        raise LabelStudioConfigError("syntax", f"The config was refused: {error}.") from error
    except ParseError as error:
        line, column = error.position
        raise LabelStudioConfigError(
            "syntax", f"The config is not well-formed XML (line {line}, column {column + 1})."
        ) from error
    count = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_ELEMENTS:
            raise LabelStudioConfigError(
                "too_many_elements", f"A Label Studio config may have at most {MAX_ELEMENTS} elements."
            )
        if depth > MAX_DEPTH:
            raise LabelStudioConfigError(
                "too_deep", f"A Label Studio config may be nested at most {MAX_DEPTH} levels deep."
            )
        stack.extend((child, depth + 1) for child in node)
    if lower_tag(root) != "view":
        raise LabelStudioConfigError(
            "not_a_view", f"A Label Studio config starts with <View>, not <{root.tag}>."
        )
    return root
