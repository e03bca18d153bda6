"""Log filters: a crash is logged with where it happened, never with what was typed."""

import logging
import traceback


class WithholdExceptionMessages(logging.Filter):
    """Logs an exception's type and stack frames but not its message.

    Exception messages can carry submitted values (a database error quoting a row,
    a validation error quoting input), and patient details must not reach the logs.
    """

    def filter(self, record):
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, trace = record.exc_info
            frames = "".join(traceback.format_tb(trace))
            name = f"{kind.__module__}.{kind.__qualname__}"
            record.exc_text = (
                f"Traceback (most recent call last):\n{frames}{name} (message withheld)"
            )
            record.exc_info = None
        return True
