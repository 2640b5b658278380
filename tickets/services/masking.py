"""Masking of personal data, for API views and for logs.

The regulation asks for the complainant's phone (Art. 9); we keep it whole in the
database for staff, and show or log it only masked (139****5678, by ``core.phones``,
which also normalises it). Names keep their first character. Addresses keep their
administrative prefix (province … town), which is what routing needs to explain itself,
and lose the street, building and door number.
"""

from __future__ import annotations

import logging
import re

from core import pii
from core.pii import PiiMaskingFilter, mask_text


def mask_name(name: str | None) -> str | None:
    """Keep the first character (usually the surname): 张三 → 张*, 欧阳娜娜 → 欧***."""
    if not name:
        return name
    return name[0] + "*" * min(len(name) - 1, 6) if len(name) > 1 else "*"


_ADMIN_PREFIX = re.compile(
    r"^(?:[\u4e00-\u9fff]{1,12}?(?:省|自治区|特别行政区|市|自治州|地区|盟|区|县|旗|镇|乡|街道))+"
)


def mask_address(address: str | None) -> str | None:
    """Keep the administrative prefix, hide the rest: 江门市新会区会城街道**** ."""
    if not address:
        return address
    compact = "".join(address.split())
    prefix = _ADMIN_PREFIX.match(compact)
    kept = prefix.group(0) if prefix else compact[:2]
    if len(kept) >= len(compact):
        return kept
    return f"{kept}****"


# --- logs -------------------------------------------------------------------------------
# One masking for every process of the stack (core.pii); re-exported here for the service.

__all__ = ["PiiMaskingFilter", "install_log_masking", "mask_text"]


def install_log_masking() -> None:
    """Make every log line of the service pass through the masking.

    Masks each record where it is created (``core.pii.install``) and adds the filter to
    the handlers of the root and uvicorn loggers; when nobody has configured logging,
    gives the ``tickets`` logger its own stderr handler so that its INFO lines are not
    dropped.
    """
    pii.install()
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "tickets"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, PiiMaskingFilter) for f in handler.filters):
                handler.addFilter(PiiMaskingFilter())
    service_logger = logging.getLogger("tickets")
    if not logging.getLogger().handlers and not service_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s %(message)s"))
        handler.addFilter(PiiMaskingFilter())
        service_logger.addHandler(handler)
        # Follow the server's verbosity (uvicorn --log-level; INFO unless told otherwise).
        service_logger.setLevel(logging.getLogger("uvicorn.error").getEffectiveLevel())
        service_logger.propagate = False
