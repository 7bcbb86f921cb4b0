"""Blocks of the home page (UX-2) that apps contribute without the kernel importing them.

    register_home_block(fn, order=10)

`fn(request)` returns None (nothing to show) or a dict with `template` (rendered with the
dict as `block`) and whatever that template reads. Keep a block to a few indexed queries."""

_blocks = []


def register_home_block(fn, order=100):
    if all(f is not fn for _o, f in _blocks):
        _blocks.append((order, fn))
        _blocks.sort(key=lambda b: b[0])
    return fn


def home_blocks(request):
    out = []
    for _order, fn in _blocks:
        block = fn(request)
        if block:
            out.append(block)
    return out
