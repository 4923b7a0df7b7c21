"""Errors a user can fix: printed as one message by the CLI, with a non-zero exit."""


class TierlensError(Exception):
    """A problem with the user's input, files or database, phrased for them."""


class InputError(TierlensError):
    """A data file that cannot be read as it is (names the file, line and problem)."""


class BuildError(TierlensError):
    """A model or data test failed; the published build is untouched."""


class ConfigError(Exception):
    """A configuration problem, phrased for the person who edits the file
    (pipelines.config raises it; defined here so catching it loads no pydantic)."""
