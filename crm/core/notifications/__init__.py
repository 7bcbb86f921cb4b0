"""In-app notifications and notification e-mail (ACT-4). API: `notify`, `register_kind`."""


def notify(*args, **kwargs):
    from .services import notify as _notify

    return _notify(*args, **kwargs)


def register_kind(*args, **kwargs):
    from .kinds import register_kind as _register_kind

    return _register_kind(*args, **kwargs)
