"""Export of the current list view (INT-4): the same scope ("export"), filters, search, sort,
saved view and columns as the list page; masked phones stay masked (unless the user may reveal),
protected fields show as hidden; cells a spreadsheet would run as a formula are neutralised in
both formats; one audit entry per export. CSV streams; XLSX is written in openpyxl's write-only
mode (rows go to a temporary file, not into memory).
"""

import csv
import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from ..access.masking import can_reveal
from ..audit import log
from ..audit.models import AuditEntry
from ..ui import cells
from ..ui.pagination import ordered

FORMATS = ("csv", "xlsx")
CHUNK = 2000
BUFFERED_ROWS = 5000  # up to this many rows the CSV is one response; beyond, it streams


def neutralise(value):
    """Text that a spreadsheet would read as a formula (=, +, -, @, tab, CR) gets a leading quote."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def export_rows(request, spec, params, action="export"):
    """(header labels, generator of rows of neutralised texts, counter) for the list view."""
    from ..ui.views import LIST_PARAMS, list_queryset, visible_columns

    qs, _filterset = list_queryset(request, spec, params, action)
    columns = visible_columns(spec, params)
    qs = ordered(qs, spec, params.get("sort"))  # a custom field's sort key too (SYS-11)
    if spec.prefetch_related:
        qs = qs.prefetch_related(*spec.prefetch_related)
    revealed = can_reveal(request.user, spec)
    header = [str(cells.field_label(spec.model, c)) for c in columns]
    counter = {"rows": 0}
    filters = {k: v for k, v in params.items() if k not in LIST_PARAMS and k != "format"}

    def rows():
        for obj in qs.iterator(chunk_size=CHUNK):
            counter["rows"] += 1
            yield [neutralise(cells.display(request.user, spec, obj, c, revealed)) for c in columns]

    return header, rows(), counter, filters


def _audit(request, spec, fmt, filters):
    return log.record(request.user, AuditEntry.Action.EXPORT, extra={
        "entity": spec.key, "format": fmt, "rows": None, "filters": filters}, request=request)


def _finish(entry, counter):
    entry.extra["rows"] = counter["rows"]
    AuditEntry.objects.filter(pk=entry.pk).update(extra=entry.extra)


def export_response(request, spec, params, fmt="csv"):
    header, rows, counter, filters = export_rows(request, spec, params)
    # The audit entry is written before the first byte leaves; its row count when the last does.
    entry = _audit(request, spec, fmt, filters)
    stamp = f"{spec.key}-{timezone.localdate():%Y%m%d}"
    if fmt == "xlsx":
        return _xlsx(header, rows, counter, entry, stamp)
    writer = csv.writer(_Echo())
    # A small list is one plain response; a large one streams after its first rows.
    head = ["\ufeff", writer.writerow(header)]  # BOM so Excel opens UTF-8 Chinese text correctly
    for row in rows:
        head.append(writer.writerow(row))
        if len(head) > BUFFERED_ROWS:
            break
    else:
        _finish(entry, counter)
        response = HttpResponse("".join(head), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stamp}.csv"'
        return response

    def stream():
        yield "".join(head)
        for row in rows:
            yield writer.writerow(row)
        _finish(entry, counter)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stamp}.csv"'
    return response


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_xlsx(header, rows, title="Sheet1"):
    """A workbook in write-only mode, into a temporary file (rewound)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append(header)
    for row in rows:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out


def _xlsx(header, rows, counter, entry, stamp):
    out = write_xlsx(header, rows, title=stamp)
    _finish(entry, counter)
    return FileResponse(out, as_attachment=True, filename=f"{stamp}.xlsx", content_type=XLSX_TYPE)


@login_required
def entity_export(request, key):
    """/<key>/export/?format=csv|xlsx&<the list's parameters>"""
    from ..ui.views import _spec, list_params

    spec = _spec(key, request, "export")
    params, _view = list_params(request, spec)
    fmt = params.get("format") if params.get("format") in FORMATS else "csv"
    return export_response(request, spec, params, fmt)
