"""Personal data out of every process's logs: phones, ``phone_last4`` values, addresses,
ID-card numbers, names typed as 我叫… (and the secret part of ticket lookup codes,
``core.ticket_ref``). The staff console's question log stores questions through the same
:func:`mask_text`, so what staff read there is no more personal than a log line.

Why here and at the log-record level: the ticket API had a masking filter on its own
handlers, but the action server (httpx logged ``…?phone_last4=5678`` at INFO), the app
and Rasa had none, and a handler filter misses every library logger with handlers of its
own. :func:`install` wraps the process's log-record factory, so each record is masked
once, when it is created, whoever logs it and wherever it goes; tracebacks included.

Phones are recognised and masked by ``core.phones``, the same way as everywhere else:
full-width digits (１３８…) and groups separated by spaces, dots or dashes
(138.1234.5678, 138 1234 5678) included.

Only the standard library is used: the Rasa environment imports this module too.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from core import phones, ticket_ref

_LAST4 = re.compile(r"(phone_last4(?:=|%3D|\"?\s*:\s*\"?))[0-9０-９]{4}", re.IGNORECASE)
_ADDRESS = re.compile(
    r"((?:[\u4e00-\u9fff]{1,12}?(?:省|市|区|县|镇|乡|街道))+)"
    r"[\u4e00-\u9fff\w\-#]{0,40}?(?:路|街|巷|道|村|里|弄|大厦|广场|花园|号|栋|座|楼|室|铺)"
    r"[\w\-#]*"
)

#: Resident ID numbers: 18 digits (the last may be X) or the old 15; full-width digits are
#: folded first. The 6-digit region prefix stays (it says no more than the county).
_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{11}[0-9Xx]|[0-9]{9})(?![0-9Xx])")
#: A name the citizen gives about themselves (我叫陈小明, 我的名字是…, 姓名：…): it keeps the
#: first character, like staff views do (``tickets.services.masking.mask_name``). Up to four
#: characters are taken, so 我叫张三想问 masks a little too much rather than too little.
_SELF_NAME = re.compile(
    r"(我叫|我的名字(?:是|叫)|本人叫|姓名(?:是|为|：|:)\s*)"
    r"([\u4e00-\u9fff][\u4e00-\u9fff·]{1,3})"
)


def mask_id_numbers(text: str) -> str:
    """``440703199001011234`` → ``440703************``; the rest of the text unchanged."""
    folded = phones.fold_digits(text)
    out: list[str] = []
    last = 0
    for match in _ID_NUMBER.finditer(folded):
        out.append(text[last : match.start()])
        out.append(match.group(1) + "*" * len(match.group(2)))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def mask_self_names(text: str) -> str:
    """``我叫陈小明`` → ``我叫陈**``."""
    return _SELF_NAME.sub(lambda m: m.group(1) + m.group(2)[0] + "*" * (len(m.group(2)) - 1), text)


def mask_text(text: str) -> str:
    """Mask ID numbers, phones, ``phone_last4`` values, lookup-code secrets, street
    addresses and self-given names."""
    text = mask_self_names(mask_id_numbers(text))
    text = phones.mask_phones_in_text(ticket_ref.mask_lookup_codes(text))
    text = _LAST4.sub(r"\1****", text)
    return _ADDRESS.sub(lambda m: f"{m.group(1)}****", text)


_PLAIN = (str, int, float, bool, type(None))


def mask_record(record: logging.LogRecord) -> None:
    """Mask one record in place: message, arguments and traceback.

    Plain arguments (text and numbers) are masked one by one and kept as arguments,
    because some formatters (uvicorn's access log) unpack ``record.args`` themselves.
    Other objects (an ``httpx.URL``…) are rendered into the message first, or their
    text would escape the masking.
    """
    if getattr(record, "_yiwen_masked", False):
        return
    record._yiwen_masked = True  # type: ignore[attr-defined]
    args: Any = record.args
    if isinstance(args, tuple) and not all(isinstance(a, _PLAIN) for a in args):
        try:
            record.msg, record.args = record.getMessage(), ()
        except Exception:  # a broken format string: leave it for logging to report
            pass
    elif isinstance(args, dict) and not all(isinstance(a, _PLAIN) for a in args.values()):
        try:
            record.msg, record.args = record.getMessage(), ()
        except Exception:
            pass
    if isinstance(record.msg, str):
        record.msg = mask_text(record.msg)
    elif record.msg is not None and not isinstance(record.msg, _PLAIN):
        record.msg = mask_text(str(record.msg))
    if isinstance(record.args, tuple):
        record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: mask_text(v) if isinstance(v, str) else v for k, v in record.args.items()}
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)


class PiiMaskingFilter(logging.Filter):
    """The same masking as a filter, for handlers configured before :func:`install`."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


#: Libraries whose INFO lines carry request URLs with query values (phone_last4=…).
QUIET_LOGGERS = ("httpx", "httpcore")


def install() -> None:
    """Mask every log record this process creates from now on (idempotent).

    Also raises ``httpx``/``httpcore`` to WARNING: their INFO line per request repeats
    each URL, query values included, and says nothing an operator needs.
    """
    current = logging.getLogRecordFactory()
    if not getattr(current, "_yiwen_pii", False):

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = current(*args, **kwargs)
            mask_record(record)
            return record

        factory._yiwen_pii = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PiiMaskingFilter) for f in handler.filters):
            handler.addFilter(PiiMaskingFilter())
