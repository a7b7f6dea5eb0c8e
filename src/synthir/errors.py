"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class SynthirError(Exception):
    """Base class of errors caused by the user's config or input (not by a bug)."""


class ConfigError(SynthirError):
    """The run config is invalid; the message names the dotted key."""


class InputError(SynthirError):
    """The corpus or another input cannot be used (missing file, no usable rows, ...)."""


class HubError(SynthirError):
    """Pushing the published dataset to the Hugging Face Hub failed (token, network, HTTP).

    The message is one line and never contains the token."""


class RunDirBusy(SynthirError):
    """Another synthir process holds the output dir's lock (the message names its pid and
    command)."""


class AllCallsFailed(SynthirError):
    """The run finished but every LLM call failed (exit code 3: nothing was generated)."""
