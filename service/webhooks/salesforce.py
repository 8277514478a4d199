"""Salesforce outbound messages: the SOAP `notifications` envelope in, the `Ack` out.

An outbound message is a SOAP 1.1 envelope whose body holds `notifications`
(namespace http://soap.sforce.com/2005/09/outbound): OrganizationId, ActionId,
SessionId, EnterpriseUrl, PartnerUrl and 1 to 100 `Notification` elements, each
with an `Id` (stable across redeliveries) and an `sObject` holding the fields the
admin chose (for a Case: Id, CaseNumber, Priority, Type, Reason, custom fields...).

The XML is parsed with defusedxml: a DTD, entity declarations or external
references are refused (400), so no entity expansion and no fetch of anything
named in the message. The URLs and the session id in the envelope are never used.
Salesforce counts a message as delivered only when the answer is `ACK` below; any
other answer (our problem+json errors included) makes it retry for up to 24 hours.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from ..problems import ProblemError

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100
MAX_DEPTH = 8
XML_MEDIA_TYPES = ("text/xml", "application/xml", "application/soap+xml")

ACK = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
       b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
       b'<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
       b'<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>')
"""The only answer Salesforce takes as "delivered"; sent only when every notification was decided."""


@dataclass(frozen=True)
class Message:
    organization_id: str | None
    action_id: str | None
    notifications: tuple[dict[str, Any], ...]
    """Per notification: {"OrganizationId", "ActionId", "NotificationId", "sObjectType", "sObject": {...}}."""


def _invalid(detail: str) -> ProblemError:
    return ProblemError(422, "invalid-payload", detail, title="Invalid payload")


def check_media_type(content_type: str | None) -> None:
    media = (content_type or "").partition(";")[0].strip().lower()
    if media not in XML_MEDIA_TYPES:
        raise ProblemError(415, "unsupported-media-type",
                           f"Salesforce outbound messages are text/xml, not {media or 'a body without a type'}")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _value(element: ET.Element, depth: int) -> Any:
    if element.get(f"{{{XSI}}}nil") == "true":
        return None
    children = list(element)
    if not children:
        return (element.text or "").strip()
    if depth >= MAX_DEPTH:
        raise _invalid(f"the sObject nests deeper than {MAX_DEPTH} levels")
    return {_local(child.tag): _value(child, depth + 1) for child in children}


def parse(body: bytes) -> Message:
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ProblemError(400, "xml-forbidden", "the XML declares a DTD, entities or external references, "
                           "which are refused") from None
    except ET.ParseError as exc:
        raise ProblemError(400, "malformed-xml", f"the request body is not well-formed XML: {exc}") from None
    notifications = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notifications") \
        if root.tag == f"{{{SOAP_ENV}}}Envelope" else None
    if notifications is None:
        raise _invalid("not a Salesforce outbound message: expected soapenv:Envelope / soapenv:Body / "
                       f"notifications in namespace {OUTBOUND}")
    organization = notifications.findtext(f"{{{OUTBOUND}}}OrganizationId")
    action = notifications.findtext(f"{{{OUTBOUND}}}ActionId")
    items = notifications.findall(f"{{{OUTBOUND}}}Notification")
    if not items:
        raise _invalid("the outbound message holds no Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise _invalid(f"an outbound message holds at most {MAX_NOTIFICATIONS} notifications, this one "
                       f"{len(items)}")
    out = []
    for index, item in enumerate(items):
        sobject = item.find(f"{{{OUTBOUND}}}sObject")
        if sobject is None:
            raise _invalid(f"Notification {index} has no sObject")
        fields = _value(sobject, 0)
        out.append({
            "OrganizationId": (organization or "").strip(), "ActionId": (action or "").strip(),
            "NotificationId": (item.findtext(f"{{{OUTBOUND}}}Id") or "").strip(),
            "sObjectType": _local(sobject.get(f"{{{XSI}}}type", "")).rpartition(":")[2],
            "sObject": fields if isinstance(fields, dict) else {},
        })
    return Message((organization or "").strip() or None, (action or "").strip() or None, tuple(out))
