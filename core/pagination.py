from django.core.exceptions import FieldDoesNotExist, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from .exceptions import DomainError
from .parsers import FORBIDDEN_CHARACTERS


class DefaultPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class SafeCursorPagination(CursorPagination):
    """Cursor paging that answers a forged or garbled cursor with 400 `invalid_cursor`.

    DRF decodes the cursor and filters on its position as given; a position that is not a value of
    the ordering field (`p=abc` for an id, a broken timestamp, a NUL byte) would fail inside the
    query as a 500. Here the position is converted with the model field first.
    """

    invalid_cursor_message = "The cursor is not valid; start again from the first page."

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except Exception as exc:  # DRF raises NotFound for an undecodable cursor
            raise DomainError("invalid_cursor", self.invalid_cursor_message) from exc
        if cursor is None or cursor.position is None:
            return cursor
        name = self.ordering[0].lstrip("-")
        try:
            if FORBIDDEN_CHARACTERS.search(cursor.position):
                raise ValueError("forbidden character")
            field = self._model._meta.get_field(name)
            value = field.to_python(cursor.position)
            field.get_prep_value(value)
        except (FieldDoesNotExist, ValidationError, ValueError, TypeError, OverflowError) as exc:
            raise DomainError("invalid_cursor", self.invalid_cursor_message) from exc
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise DomainError("invalid_cursor", self.invalid_cursor_message)
        return cursor


class NewestFirstCursorPagination(SafeCursorPagination):
    """Stable, index-friendly paging for append-only logs (no COUNT(*) on big tables)."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
