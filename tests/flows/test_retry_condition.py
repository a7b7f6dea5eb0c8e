"""Shard tasks retry transient faults only: a config / input error (e.g. a template reading an
undefined attribute) fails the same way every time, so the flow does not retry it."""

from flows.generate import shard_task, transient
from synthir.errors import ConfigError, InputError
from synthir.prompting import TemplateRenderError


class Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def result(self):
        raise self.exc


def test_user_errors_are_not_retried_other_failures_are():
    assert shard_task.retry_condition_fn is transient
    for exc in (ConfigError("bad"), InputError("bad"), TemplateRenderError("prompt template t.j2: x")):
        assert transient(None, None, Failed(exc)) is False
    assert transient(None, None, Failed(RuntimeError("worker died"))) is True
    assert transient(None, None, Failed(OSError("connection reset"))) is True
