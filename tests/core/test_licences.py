"""The licence compatibility table over real SPDX ids (license-expression parses them)."""

import pytest

from core.exceptions import DomainError
from core.licences import licence_conflict, normalise_licence, permits_commercial_use

NC, ND, SA = "licence_non_commercial", "licence_no_derivatives", "licence_share_alike"


@pytest.mark.parametrize(
    ("item", "release", "expected"),
    [
        ("CC-BY-4.0", "CC-BY-4.0", None),
        ("CC0-1.0", "CC-BY-4.0", None),
        ("MIT", "Apache-2.0", None),
        ("CC-BY-NC-4.0", "CC-BY-4.0", NC),  # NC source, commercial release
        ("CC-BY-NC-4.0", "CC0-1.0", NC),
        ("CC-BY-NC-4.0", "LicenseRef-acme-commercial", NC),  # an own licence counts as commercial
        ("CC-BY-NC-4.0", "CC-BY-NC-4.0", None),  # NC release: fine
        ("CC-BY-NC-4.0", "", None),  # release licence not stated: only ND can be judged
        ("CC-BY-ND-4.0", "CC-BY-4.0", ND),  # annotated data is a derivative
        ("CC-BY-ND-4.0", "CC-BY-NC-4.0", ND),
        ("CC-BY-NC-ND-4.0", "CC-BY-NC-4.0", ND),
        ("CC-BY-ND-4.0", "", ND),
        ("CC-BY-SA-4.0", "CC-BY-4.0", SA),  # SA needs an SA release
        ("CC-BY-SA-4.0", "CC-BY-SA-4.0", None),
        ("CC-BY-SA-3.0", "CC-BY-SA-4.0", None),  # later version: allowed
        ("CC-BY-SA-4.0", "CC-BY-SA-3.0", SA),  # earlier version: not
        ("CC-BY-NC-SA-4.0", "CC-BY-NC-SA-4.0", None),
        ("CC-BY-NC-SA-4.0", "CC-BY-SA-4.0", NC),
        ("ODbL-1.0", "ODbL-1.0", None),
        ("ODbL-1.0", "CC-BY-4.0", SA),
        ("CC-BY-NC-4.0 OR MIT", "CC-BY-4.0", None),  # the licensee chooses MIT
        ("CC-BY-NC-4.0 AND MIT", "CC-BY-4.0", NC),  # both apply
        ("cc-by-nc-4.0", "cc0-1.0", NC),  # case does not matter
        ("", "CC-BY-4.0", None),  # unknown item licence: the policy's business
    ],
)
def test_compatibility_table(item, release, expected):
    assert licence_conflict(item, release) == expected


def test_no_derivatives_allowed_by_the_policy():
    assert licence_conflict("CC-BY-ND-4.0", "CC-BY-4.0", allow_no_derivatives=True) is None
    assert licence_conflict("CC-BY-NC-ND-4.0", "CC-BY-4.0", allow_no_derivatives=True) == NC


def test_commercial_use_of_release_licences():
    assert permits_commercial_use("CC-BY-4.0") and permits_commercial_use("MIT")
    assert not permits_commercial_use("CC-BY-NC-SA-4.0")
    assert permits_commercial_use("CC-BY-NC-4.0 OR MIT")
    assert not permits_commercial_use("CC-BY-NC-4.0 AND MIT")


def test_normalise_names_the_unknown_identifier():
    assert normalise_licence(" mit  or apache-2.0 ") == "MIT OR Apache-2.0"
    assert normalise_licence("") == ""
    with pytest.raises(DomainError) as error:
        normalise_licence("CC-BY-5.0")
    assert error.value.code == "invalid_licence" and "CC-BY-5.0" in error.value.message
