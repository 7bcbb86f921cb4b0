"""The downloadable error report of an import: the original row, its number and the errors per field."""

import csv
import io

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _

from .export import XLSX_TYPE, neutralise, write_xlsx


def report_rows(job):
    header = [_("Row")] + list(job.headers) + [_("Errors")]
    rows = []
    for e in job.errors:
        problems = "; ".join(
            f"{x.get('column') or x.get('label') or x.get('field')}: {x['message']}" if (x.get("field") or x.get("column"))
            else x["message"] for x in e["errors"])
        rows.append([str(e["row"])] + [neutralise(v) for v in e["values"]] + [neutralise(problems)])
    return header, rows


def report_response(job, fmt="csv"):
    header, rows = report_rows(job)
    name = f"import-{job.pk}-errors"
    if fmt == "xlsx":
        return FileResponse(write_xlsx(header, rows, title=name), as_attachment=True, filename=f"{name}.xlsx",
                            content_type=XLSX_TYPE)
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
