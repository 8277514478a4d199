"""Mapping files: the shipped ones load; a mistake is a finding with file, line and what was expected."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from service.engine.findings import RulesetInvalid
from service.webhooks import mapfile, mapping
from tests.support import ROOT, RULES

SYSTEMS = ("zendesk", "jira", "freshdesk", "servicenow", "salesforce", "intercom")
WEBHOOKS = RULES / "webhooks"

MINIMAL = """\
system: zendesk
ticket_id: {from: ticket.id}
fields:
  failure.type: {from: ticket.type}
  failure.severity: {default: 2}
  failure.root_cause: {default: unknown}
"""


def findings(text: str, system: str = "zendesk") -> list[str]:
    with pytest.raises(RulesetInvalid) as caught:
        mapfile.load(f"{system}.yaml", textwrap.dedent(text).encode(), system)
    return [finding.render() for finding in caught.value.findings]


@pytest.mark.parametrize("system", SYSTEMS)
def test_shipped_mappings_load(system: str) -> None:
    loaded = mapfile.load(f"{system}.yaml", (WEBHOOKS / f"{system}.yaml").read_bytes(), system,
                          lambda name: (WEBHOOKS / name).read_bytes())
    assert not loaded.warnings
    assert {phrase_set.target for phrase_set in loaded.phrases} >= {"failure.type", "failure.root_cause",
                                                                     "failure.severity"}
    assert {"failure.type", "failure.severity", "failure.root_cause"} <= {item.target for item in loaded.fields}


def test_minimal_mapping_maps_a_ticket() -> None:
    loaded = mapfile.load("zendesk.yaml", MINIMAL.encode(), "zendesk")
    mapped = mapping.apply(loaded, {"ticket": {"id": 7, "type": "Late Delivery"}})
    assert mapped.event.event_id == "zendesk:7"
    assert mapped.event.failure.type == "late_delivery"   # slug fields are lower-cased, spaces to _
    assert mapped.event.failure.severity == 2 and mapped.found_at["failure.severity"] == "default"


@pytest.mark.parametrize("text, expected", [
    (MINIMAL.replace("fields:", "feilds:"),
     ["zendesk.yaml:1: error schema: `fields` is required",
      "zendesk.yaml:3: error unknown-key: unknown key `feilds` in the file; expected system, description, "
      "root, ticket_id, ticket_status, fields, signals, writeback\n    fix: did you mean `fields`?"]),
    (MINIMAL + "  failure.sevrity: {from: ticket.priority}\n",
     ["zendesk.yaml:7: error unknown-field: `failure.sevrity` is not an event field"]),
    (MINIMAL + "  order.amount.amount: {from: ticket..amount}\n",
     ["zendesk.yaml:7: error bad-path: step `` of `ticket..amount` is not a key"]),
    (MINIMAL + "  customer.prior_recoveries_90d: {from: ticket.recoveries, values: {many: lots}}\n",
     ["zendesk.yaml:7: error bad-value: the value for `many`: expected a whole number, got 'lots'"]),
    (MINIMAL.replace("failure.root_cause: {default: unknown}", "failure.root_cause: {default: carrier}"),
     ["zendesk.yaml:6: error bad-value: default: expected one of provider, customer, third_party, unknown"]),
    (MINIMAL.replace("  failure.severity: {default: 2}\n", ""),
     ["zendesk.yaml:3: error missing: `fields.failure.severity` is required"]),
    (MINIMAL.replace("system: zendesk", "system: jira"),
     ["zendesk.yaml:1: error system: `system` is 'jira'; this file maps `zendesk` tickets"]),
    (MINIMAL + "  failure.recurring: {from: ticket.tags, split: ', '}\n",
     ["zendesk.yaml:7: error schema: `split` is one character"]),
    (MINIMAL + "  context.channel:\n    from: ticket.via\n    values: {Web: web, ' web ': chat}\n",
     ["zendesk.yaml:9: error duplicate-key: ` web ` and `Web` are the same ticket value"]),
    (MINIMAL + "  customer.tier:\n    sources:\n      - {from: ticket.tier, valeus: {a: gold}}\n",
     ["zendesk.yaml:9: error unknown-key: unknown key `valeus` in a source"]),
    (MINIMAL + "  order.id: {}\n",
     ["zendesk.yaml:7: error schema: `fields.order.id` needs `from`"]),
    (MINIMAL.replace("failure.severity: {default: 2}", "failure.severity: {default: 2, required: false}"),
     ["zendesk.yaml:5: error schema: `failure.severity` cannot be optional"]),
    ("system: zendesk\nfields: [\n", ["zendesk.yaml:3: error yaml: not valid YAML"]),
])
def test_mistakes_are_reported_with_line_and_expectation(text: str, expected: list[str]) -> None:
    found = findings(text)
    assert len(found) == len(expected), found
    for line, start in zip(found, expected):
        assert line.startswith(start), line


def test_every_mistake_is_reported_at_once() -> None:
    found = findings(MINIMAL + "  failure.sevrity: {from: x}\n  order.amount.amount: {from: 'a b'}\n")
    assert [line.split(":")[1] for line in found] == ["7", "8"]


@pytest.mark.parametrize("raw, expected", [
    ({"ticket": {"id": "1", "type": "rude_agent", "amount": 12.5}}, Decimal("12.50")),
    ({"ticket": {"id": "1", "type": "rude_agent", "amount": "12.5"}}, Decimal("12.50")),
])
def test_amounts_keep_their_exact_value(raw: dict[str, object], expected: Decimal) -> None:
    text = MINIMAL + "  order.amount.amount: {from: ticket.amount}\n  order.amount.currency: {default: EUR}\n"
    loaded = mapfile.load("zendesk.yaml", text.encode(), "zendesk")
    order = mapping.apply(loaded, raw).event.order
    assert order is not None and order.amount.amount == expected


def test_selectors_pick_a_custom_field_by_id() -> None:
    text = MINIMAL + "  order.id: {from: 'ticket.custom_fields[id=360012345].value'}\n"
    loaded = mapfile.load("zendesk.yaml", text.encode(), "zendesk")
    ticket = {"ticket": {"id": "9", "type": "wrong_item",
                         "custom_fields": [{"id": 360099999, "value": "x"}, {"id": 360012345, "value": "o-1"}]}}
    mapped = mapping.apply(loaded, ticket)
    assert mapped.found_at["order.id"] == "ticket.custom_fields[id=360012345].value"
    assert mapped.event.model_dump()["order"] is None   # an order id without an amount is no order


def test_check_command_reports_findings_and_fails(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    shutil.copytree(RULES / "webhooks", tmp_path / "webhooks")
    command = [sys.executable, "-m", "service.webhooks", "check", str(tmp_path / "webhooks")]
    ok = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and ok.stdout.count(": ok (") == 7, ok.stdout   # six systems and signals.yaml
    assert "warning" not in ok.stdout
    (tmp_path / "webhooks" / "jira.yaml").write_text(MINIMAL.replace("zendesk", "jira").replace("ticket.type", "a..b"))
    broken = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert broken.returncode == 1
    assert "jira.yaml:4: error bad-path: step `` of `a..b` is not a key" in broken.stdout


def test_an_object_where_a_value_was_expected_says_which_keys_it_has() -> None:
    text = MINIMAL + "  customer.tier: {from: ticket.tier, values: {gold: gold}}\n"
    loaded = mapfile.load("zendesk.yaml", text.encode(), "zendesk")
    with pytest.raises(mapping.Unmappable) as caught:
        mapping.apply(loaded, {"ticket": {"id": "1", "type": "wrong_item", "tier": {"value": "Gold", "id": "10031"}}})
    [error] = caught.value.errors
    assert error["loc"] == ["customer", "tier"]
    assert error["looked_at"][0]["problem"] == "an object (keys id, value): point `from` at one of them"


def test_root_band_and_writeback_entries() -> None:
    text = """\
system: servicenow
root: [record, incident]
ticket_id: {from: number}
fields:
  failure.type: {from: u_type}
  failure.severity: {from: priority, values: {"2": 3, 2 - high: 3}}
  failure.root_cause: {default: unknown}
  order.amount.amount: {from: tags, split: ",", band: true, values: {order_value_500_plus: "500.00"}}
  order.amount.currency: {default: USD}
writeback:
  record: {from: sys_id}
  table: {from: sys_class_name, default: incident}
"""
    loaded = mapfile.load("servicenow.yaml", text.encode(), "servicenow")
    payload = {"record": {"number": {"value": "CS0001", "display_value": "CS0001"},
                          "u_type": {"value": "late_delivery", "display_value": "Late delivery"},
                          "priority": {"value": "", "display_value": "2 - High"},
                          "tags": "vip,order_value_500_plus",
                          "sys_id": {"value": "a" * 32, "display_value": "a" * 32}}}
    mapped = mapping.apply(loaded, payload)
    assert mapped.event.event_id == "servicenow:CS0001" and mapped.event.failure.severity == 3
    assert mapped.account["failure.severity"]["path"] == "record.priority"   # the display value matched
    assert mapped.event.order is not None and mapped.event.order.amount.amount == Decimal("500.00")
    assert mapped.account["order.amount.amount"]["band"] == "at least"
    assert mapped.caveats == ("Order amount 500.00 USD is the lower bound of a band (the ticket's "
                              "`order_value_500_plus`), not the exact amount: check the order before paying.",)
    assert mapped.record == {"id": "a" * 32, "table": "incident"}


@pytest.mark.parametrize("text, expected", [
    (MINIMAL + "  order.id: {from: ticket.o, band: true}\n", "zendesk.yaml:7: error schema: `band: true` is for an "
                                                             "amount read through `values`"),
    (MINIMAL + "writeback: {table: {from: x}}\n", "zendesk.yaml:7: error schema: `writeback.table` is for ServiceNow"),
    (MINIMAL + "signals: {text: ticket.subject}\n", "zendesk.yaml:7: error schema: `signals` needs both"),
    (MINIMAL + "root: 'a[*].b[*]'\n", "zendesk.yaml:7: error bad-path: `a[*].b[*]` has more than one [*]"),
])
def test_new_entries_are_checked(text: str, expected: str) -> None:
    assert any(line.startswith(expected) for line in findings(text)), findings(text)


def test_paths_read_quoted_keys_and_every_element() -> None:
    text = MINIMAL.replace("failure.type: {from: ticket.type}", "failure.type: {from: 'ticket.tags.tags[*].name', "
                           "values: {rude_agent: rude_agent}}") + \
        "  order.amount.amount: {from: 'ticket.custom_attributes.\"Order amount\"'}\n" \
        "  order.amount.currency: {default: GBP}\n"
    loaded = mapfile.load("zendesk.yaml", text.encode(), "zendesk")
    mapped = mapping.apply(loaded, {"ticket": {"id": 3, "tags": {"tags": [{"name": "vip"}, {"name": "rude_agent"}]},
                                               "custom_attributes": {"Order amount": "12.00"}}})
    assert mapped.event.failure.type == "rude_agent"
    assert mapped.event.order is not None and mapped.event.order.amount.amount == Decimal("12.00")
