"""Reading an uploaded table: CSV (UTF-8 with or without BOM, or GB18030/GBK as Chinese Excel
writes it) or XLSX (read-only mode, so a large sheet is streamed, not loaded).

`open_table(file, name)` returns a `Table` (format, encoding, headers) whose `rows()` yields
lists of cell texts; problems are `FileError` with a message for the user.
"""

import codecs
import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _


class FileError(Exception):
    """The file cannot be read as a table; the message says why, in the user's language."""


def max_bytes():
    return getattr(settings, "CRM_IMPORT_MAX_BYTES", 50 * 1024 * 1024)


def max_rows():
    return getattr(settings, "CRM_IMPORT_MAX_ROWS", 200_000)


def check_size(size):
    if size > max_bytes():
        raise FileError(_("The file is too large (%(size)s MB); the limit is %(limit)s MB.") % {
            "size": f"{size / 1048576:.1f}", "limit": f"{max_bytes() / 1048576:.0f}"})
    if size == 0:
        raise FileError(_("The file is empty."))


def detect_format(name, head: bytes):
    if head[:4] == b"PK\x03\x04":
        return "xlsx"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError(_("The file is in UTF-16; save it as CSV in UTF-8 or GBK."))
    if (name or "").lower().endswith((".xlsx", ".xlsm")):
        raise FileError(_("This file is not a valid Excel (.xlsx) workbook."))
    if (name or "").lower().endswith(".xls") or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError(_("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV."))
    if b"\x00" in head[:4096] or head.startswith(b"%PDF") or (name or "").lower().endswith(".pdf"):
        raise FileError(_("This file is neither CSV nor Excel (.xlsx)."))
    return "csv"


def detect_encoding(data: bytes):
    """"utf-8-sig" (BOM), "utf-8", or "gb18030" (a superset of GBK and GB2312, what Chinese
    Excel writes); anything else is refused."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError(_("The file is in UTF-16; save it as CSV in UTF-8 or GBK."))
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a character cut at the sample's end
            try:
                data[:exc.start].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise FileError(_("The file's text encoding is neither UTF-8 nor GBK/GB18030; save it as CSV in UTF-8."))


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


@dataclass
class Table:
    file_format: str
    encoding: str
    headers: list
    _path: object = None
    _data: bytes = b""

    def rows(self):
        """Data rows (after the header row) as lists of texts, as long as the header row."""
        width = len(self.headers)
        for row in self._raw_rows(skip_header=True):
            if not any(c for c in row):
                continue
            row = (row + [""] * width)[:width]
            yield row

    def _raw_rows(self, skip_header):
        if self.file_format == "xlsx":
            yield from _xlsx_rows(self._data, skip_header)
        else:
            yield from _csv_rows(self._data, self.encoding, skip_header)


def _csv_rows(data, encoding, skip_header):
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    try:
        sample = text.read(64 * 1024)
        text.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(text, dialect)
        first = True
        for row in reader:
            if first:
                first = False
                if skip_header:
                    continue
            yield [c.strip() for c in row]
    except UnicodeDecodeError:
        raise FileError(_("The file's text encoding is neither UTF-8 nor GBK/GB18030; save it as CSV in UTF-8."))
    except csv.Error as exc:
        raise FileError(_("The CSV file is malformed: %(error)s") % {"error": exc})


def _xlsx_rows(data, skip_header):
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise FileError(_("This file is not a valid Excel (.xlsx) workbook."))
    try:
        ws = wb.worksheets[0]
        first = True
        for row in ws.iter_rows(values_only=True):
            if first:
                first = False
                if skip_header:
                    continue
            yield [cell_text(c) for c in row]
    finally:
        wb.close()


def open_table(data: bytes, name: str = "") -> Table:
    check_size(len(data))
    fmt = detect_format(name, data[:4096])
    encoding = "" if fmt == "xlsx" else detect_encoding(data)
    table = Table(fmt, encoding, [], _data=data)
    try:
        header = next(table._raw_rows(skip_header=False), None)
    except FileError:
        raise
    except Exception:
        raise FileError(_("This file is neither CSV nor Excel (.xlsx)."))
    if fmt == "csv" and data[:4096].lstrip()[:1] in (b"<", b"{") and header and len(header) < 2:
        raise FileError(_("This file is neither CSV nor Excel (.xlsx)."))
    headers = [(h or "").strip().lstrip("\ufeff") for h in (header or [])]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileError(_("The file has no header row."))
    seen = set()
    for h in headers:
        if h and h in seen:
            raise FileError(_("The column “%(name)s” appears twice in the header row.") % {"name": h})
        seen.add(h)
    table.headers = headers
    return table


def count_rows(table):
    n = 0
    for _row in table.rows():
        n += 1
        if n > max_rows():
            raise FileError(_("The file has more than %(limit)s rows; split it into smaller files.") % {
                "limit": f"{max_rows():,}"})
    return n
