"""Shared constants and file generators for the knowledge tests (imported, not collected)."""

from __future__ import annotations

import io
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CORE_DIR = SHARED / "corpus" / "core"
LAWREFBOOK_TAR = SHARED / "corpus" / "lawrefbook.tar.xz"

PROMOTION_ACT = "促进个体工商户发展条例(2022-10-01)"
OLD_ACT = "个体工商户条例(2016-02-06)"
MEASURES = "江门市市场监督管理局推进百县千镇万村高质量发展工程的若干措施"
REVIEW = "江门市市场监督管理局服务高质量发展工作综述"


def make_pdf(lines: list[str], password: str | None = None) -> bytes:
    """A one-page PDF whose text pypdf can extract, Chinese included.

    The font is the standard CJK font STSong-Light with the predefined
    UniGB-UTF16-H encoding, so the content stream holds UTF-16BE strings and
    no font file needs embedding. With no lines the page is blank (like a scan).
    """
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    if lines:
        descendant = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/CIDFontType0"),
                NameObject("/BaseFont"): NameObject("/STSong-Light"),
                NameObject("/CIDSystemInfo"): DictionaryObject(
                    {
                        NameObject("/Registry"): TextStringObject("Adobe"),
                        NameObject("/Ordering"): TextStringObject("GB1"),
                        NameObject("/Supplement"): NumberObject(4),
                    }
                ),
            }
        )
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type0"),
                NameObject("/BaseFont"): NameObject("/STSong-Light"),
                NameObject("/Encoding"): NameObject("/UniGB-UTF16-H"),
                NameObject("/DescendantFonts"): ArrayObject([writer._add_object(descendant)]),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
        )
        ops = [b"BT /F1 12 Tf 14 TL 72 760 Td"]
        ops += [b"<" + line.encode("utf-16-be").hex().encode() + b"> Tj T*" for line in lines]
        ops.append(b"ET")
        stream = DecodedStreamObject()
        stream.set_data(b"\n".join(ops))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password:
        writer.encrypt(user_password=password, owner_password=password + "-owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
