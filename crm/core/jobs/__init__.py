"""The job engine (issue #5): Django's Tasks API with after-commit enqueueing, retries with
backoff, idempotency, progress, periodic jobs and a status page. See engine.py and schedule.py.

Import the API lazily from the submodules in modules loaded before the app registry is ready."""


def __getattr__(name):
    from importlib import import_module

    if name in __all__:
        for module in ("engine", "schedule"):
            module = import_module(f"{__name__}.{module}")
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(name)


__all__ = ["enqueue_after_commit", "enqueue_job", "retryable", "report_progress", "run_once", "periodic",
           "tick", "run_now", "maintain", "retry_now", "current_job_id"]
