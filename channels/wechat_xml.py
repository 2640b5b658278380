"""Parsing WeChat's XML without trusting it.

WeChat never sends a DTD, so any DOCTYPE, entity declaration or external reference
is hostile (billion laughs, XXE): defusedxml refuses them before anything expands.
Kept apart from channels/wechat.py so it can be checked without importing Rasa.
"""

from __future__ import annotations

import xml.etree.ElementTree as StdET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring


class BadRequest(ValueError):
    """The request is not a well-formed WeChat message (answered with 400)."""


def parse_xml(data: bytes | str) -> dict[str, str]:
    """Top-level fields of a WeChat ``<xml>`` document, refusing DTDs and entities."""
    try:
        root = safe_fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BadRequest(f"hostile XML rejected ({type(exc).__name__})") from None
    except (StdET.ParseError, ValueError, TypeError) as exc:
        raise BadRequest(f"malformed XML ({exc})") from None
    if root.tag != "xml":
        raise BadRequest(f"unexpected root element <{root.tag}>")
    return {child.tag: (child.text or "") for child in root}
