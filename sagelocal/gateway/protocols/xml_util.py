"""XML rendering and reading of compiled shapes, shared by the query and rest-xml codecs.

The layout follows botocore's XML serializer and parser: lists wrap `<member>` elements (or the
member's locationName) unless flattened, maps wrap `<entry><key/><value/></entry>`, structures use
each member's locationName, `xmlNamespace` becomes an `xmlns` attribute, `xmlAttribute` members
become attributes.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from sagelocal.gateway.protocols.shapes import Node, scalar_from_text, scalar_to_text

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})


def escape(text: str) -> str:
    """Escape element text."""
    return text.translate(_ESCAPES)


def escape_attr(text: str) -> str:
    """Escape an attribute value."""
    return text.translate(_ATTR_ESCAPES)


def _ns(node: Node) -> str:
    return f' {node.xml_ns[0]}="{escape_attr(node.xml_ns[1])}"' if node.xml_ns else ""


class XmlWriter:
    """Renders values of compiled shapes; `ts_format`/`millis` set the default timestamp style."""

    def __init__(self, ts_format: str = "iso8601", millis: bool = False) -> None:
        self.ts_format = ts_format
        self.millis = millis

    def element(self, out: list[str], node: Node, value: Any, tag: str, extra_attrs: str = "") -> None:
        """Append `<tag>...</tag>` for the value to `out`."""
        t = node.type
        if t == "structure":
            out.append(f"<{tag}{_ns(node) or extra_attrs}{self._attributes(node, value)}>")
            self.children(out, node, value)
            out.append(f"</{tag}>")
        elif t == "list":
            member = node.member
            assert member is not None
            if node.flattened:
                for item in value:
                    if item is not None:
                        self.element(out, member, item, tag)
                return
            name = member.loc_name or "member"
            out.append(f"<{tag}{_ns(node) or extra_attrs}>")
            for item in value:
                if item is not None:
                    self.element(out, member, item, name)
            out.append(f"</{tag}>")
        elif t == "map":
            key, val = node.key, node.value
            assert key is not None and val is not None
            kname, vname = key.loc_name or "key", val.loc_name or "value"
            if not node.flattened:
                out.append(f"<{tag}{_ns(node) or extra_attrs}>")
            for k, v in value.items():
                if v is None:
                    continue
                out.append(f"<{tag}>" if node.flattened else "<entry>")
                self.element(out, key, k, kname)
                self.element(out, val, v, vname)
                out.append(f"</{tag}>" if node.flattened else "</entry>")
            if not node.flattened:
                out.append(f"</{tag}>")
        else:
            text = escape(scalar_to_text(node, value, self.ts_format, self.millis))
            out.append(f"<{tag}{_ns(node) or extra_attrs}>{text}</{tag}>")

    def children(self, out: list[str], node: Node, value: dict[str, Any]) -> None:
        """Append the body members of a structure value (members bound to HTTP locations skipped)."""
        for name, child, tag in node.xml_body:
            item = value.get(name)
            if item is not None:
                self.element(out, child, item, tag)

    @staticmethod
    def _attributes(node: Node, value: dict[str, Any]) -> str:
        if not node.xml_attrs:
            return ""
        parts = []
        for name, attr in node.xml_attrs:
            if value.get(name) is not None:
                parts.append(f' {attr}="{escape_attr(str(value[name]))}"')
        return "".join(parts)


def parse_xml(body: bytes) -> ElementTree.Element:
    """The root element of an XML document; ValueError when malformed or when it declares a DTD."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ValueError("DTDs are not accepted")
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise ValueError(str(exc)) from exc


def local_name(tag: str) -> str:
    """An element tag without its `{namespace}`."""
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def from_xml(node: Node, elem: ElementTree.Element) -> Any:
    """The value of an element as the node's Python types (ValueError on a bad scalar)."""
    t = node.type
    if t == "structure":
        return _structure(node, elem)
    if t == "list":
        member = node.member
        assert member is not None
        return [from_xml(member, child) for child in elem]
    if t == "map":
        return _map_entries(node, list(elem))
    return scalar_from_text(node, elem.text or "")


def _structure(node: Node, elem: ElementTree.Element) -> dict[str, Any]:
    grouped: dict[str, list[ElementTree.Element]] = {}
    for child in elem:
        grouped.setdefault(local_name(child.tag), []).append(child)
    out: dict[str, Any] = {}
    for name, child_node in node.members.items():
        if child_node.location is not None:
            continue
        if child_node.xml_attr:
            value = _attribute(elem, child_node.loc_name or name)
            if value is not None:
                out[name] = value
            continue
        elems = grouped.get(node.xml_names[name])
        if not elems:
            continue
        if child_node.flattened and child_node.type == "list":
            member = child_node.member
            assert member is not None
            out[name] = [from_xml(member, e) for e in elems]
        elif child_node.flattened and child_node.type == "map":
            out[name] = _map_entries(child_node, elems, flattened=True)
        else:
            out[name] = from_xml(child_node, elems[0])
    return out


def _map_entries(node: Node, entries: list[ElementTree.Element], flattened: bool = False) -> dict[str, Any]:
    key, val = node.key, node.value
    assert key is not None and val is not None
    kname, vname = key.loc_name or "key", val.loc_name or "value"
    out: dict[str, Any] = {}
    for entry in entries:
        if not flattened and local_name(entry.tag) != "entry":
            continue
        k = v = None
        for part in entry:
            tag = local_name(part.tag)
            if tag == kname:
                k = from_xml(key, part)
            elif tag == vname:
                v = from_xml(val, part)
        if k is not None:
            out[k] = v
    return out


def _attribute(elem: ElementTree.Element, name: str) -> str | None:
    wanted = name.split(":")[-1]
    for attr, value in elem.attrib.items():
        if local_name(attr) == wanted:
            return value
    return None
