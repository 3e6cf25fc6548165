"""A package's files → the bytes of one zip, built whole in memory (written all or nothing by the
command line), the same bytes for the same files: fixed dates, files in the order given."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree.ElementTree import Element, SubElement, indent, tostring

EPOCH = (1980, 1, 1, 0, 0, 0)
"""Every entry's date: zip's earliest, so that the same handout gives the same bytes."""

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_.-]")


def zipped(files: list[tuple[str, str | bytes]]) -> bytes:
    """A zip of ``(path, content)`` pairs; a path ending in / is a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in files:
            info = zipfile.ZipInfo(path, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_STORED if path.endswith("/") else zipfile.ZIP_DEFLATED
            info.external_attr = (0o40755 << 16) | 0x10 if path.endswith("/") else 0o644 << 16
            archive.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()


def xml_text(root: Element, mixed: tuple[str, ...] = ()) -> str:
    """An XML document's text with its declaration, indented; the children of ``root`` tagged
    ``mixed`` (HTML: text and elements side by side) as they are. Tags are plain names, the
    root's ``xmlns`` attributes their namespaces (``namespaced``)."""
    root.text = "\n  "
    for i, child in enumerate(root):
        if child.tag not in mixed:
            indent(child, space="  ", level=1)
        child.tail = "\n  " if i < len(root) - 1 else "\n"
    text = tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"


XSI = "http://www.w3.org/2001/XMLSchema-instance"


def namespaced(tag: str, namespace: str, schema: str, **attributes: str) -> Element:
    """A document's root element in ``namespace``, its XSD named where it is (``schema``)."""
    return Element(tag, {"xmlns": namespace, "xmlns:xsi": XSI, "xsi:schemaLocation": f"{namespace} {schema}",
                         **attributes})


def content_package(namespace: str, schema: str, profile: str, version: str) -> tuple[Element, Element]:
    """An imsmanifest.xml's root (IMS Content Packaging) with its metadata and no organizations,
    and its ``resources`` element to fill."""
    root = namespaced("manifest", namespace, schema, identifier=identifier("manifest"))
    metadata = SubElement(root, "metadata")
    SubElement(metadata, "schema").text = profile
    SubElement(metadata, "schemaversion").text = version
    SubElement(root, "organizations")
    return root, SubElement(root, "resources")


def identifier(*parts: object) -> str:
    """An identifier (an XML NCName: a letter first, then letters, digits, _ . -) from ``parts``."""
    return "W_" + "_".join(_NOT_IDENTIFIER.sub("_", str(p)) for p in parts)


__all__ = ["content_package", "identifier", "namespaced", "xml_text", "zipped"]
