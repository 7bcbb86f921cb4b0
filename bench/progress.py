"""A progress bar on stderr with rows/s and an ETA (no dependency)."""

import sys
import time


def _hms(seconds):
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """`with Progress("customers", total) as p: p.add(n)`; redraws at most 5 times a second on a
    terminal, one line every 10 % otherwise (CI logs)."""

    def __init__(self, label, total, stream=None, quiet=False, unit="rows"):
        self.label, self.total, self.unit = label, max(int(total), 1), unit
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.done = 0
        self.start = self.last_draw = time.perf_counter()
        self.last_decile = -1

    def __enter__(self):
        self._draw(force=True)
        return self

    def __exit__(self, *exc):
        self._draw(force=True, end=True)

    @property
    def elapsed(self):
        return time.perf_counter() - self.start

    @property
    def rate(self):
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def add(self, n):
        self.done += n
        self._draw()

    def line(self):
        frac = min(self.done / self.total, 1.0)
        width = 28
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        eta = (self.total - self.done) / self.rate if self.rate else 0
        return (f"{self.label:<14} [{bar}] {frac:4.0%} {self.done:>11,}/{self.total:,}  "
                f"{self.rate:>9,.{0 if self.rate >= 10 else 2}f} {self.unit}/s  ETA {_hms(eta)}  elapsed {_hms(self.elapsed)}")

    def _draw(self, force=False, end=False):
        if self.quiet:
            return
        now = time.perf_counter()
        if self.tty:
            if force or now - self.last_draw >= 0.2:
                self.last_draw = now
                self.stream.write("\r" + self.line() + ("\n" if end else ""))
                self.stream.flush()
        else:
            decile = int(10 * self.done / self.total)
            if end or decile > self.last_decile:
                self.last_decile = decile
                self.stream.write(self.line() + "\n")
                self.stream.flush()
