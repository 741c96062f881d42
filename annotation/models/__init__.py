"""annotation's models, one module per part of the app; every model is importable from here
(`from annotation.models import Item`), which is also how Django finds them."""

from ..items.manager_models import ItemBulkAction  # the data manager's bulk actions (annotation/items/)
from .items import (
    BucketSource,
    ImportedAnnotator,
    ImportJob,
    Item,
    MetadataField,
    NearDuplicateGroup,
    SplitOperation,
)
from .neardup import NearDuplicateBucket, NearDuplicateIndexed, NearDuplicateState
from .pii import PiiFinding
from .provenance import ProvenanceSource
from .workflow import Annotation, AnnotationRevision, Assignment, Prediction, ReviewDecision, ReviewLease

__all__ = [
    "Annotation",
    "AnnotationRevision",
    "Assignment",
    "BucketSource",
    "ImportJob",
    "ImportedAnnotator",
    "Item",
    "ItemBulkAction",
    "MetadataField",
    "NearDuplicateBucket",
    "NearDuplicateGroup",
    "NearDuplicateIndexed",
    "NearDuplicateState",
    "PiiFinding",
    "Prediction",
    "ProvenanceSource",
    "ReviewDecision",
    "ReviewLease",
    "SplitOperation",
]
