// Ready examples for "Try a case", taken from the contract and the shipped case tables.

export const EXAMPLES = [
  {
    label: "Late parcel, gold customer (the contract's example)",
    event: {
      event_id: "crm-48213",
      failure: { type: "late_delivery", category: "outcome", severity: 3, root_cause: "provider",
                 recurring: false, description: "parcel 4 days late" },
      customer: { id: "c-1009", tier: "gold", lifetime_value: { amount: "1840.00", currency: "EUR" },
                  prior_recoveries_90d: 0 },
      order: { id: "o-77", amount: { amount: "80.00", currency: "EUR" } },
      context: { channel: "chat", minutes_since_report: 5, customer_request: "refund" },
    },
  },
  {
    label: "The customer ordered the wrong size",
    event: {
      failure: { type: "wrong_item", severity: 3, root_cause: "customer" },
      order: { amount: { amount: "80.00", currency: "EUR" } },
    },
  },
  {
    label: "Double charge",
    event: {
      failure: { type: "double_charge", severity: 2, root_cause: "provider" },
      order: { amount: { amount: "59.90", currency: "EUR" } },
    },
  },
  {
    label: "A 4 euro overcharge on a 60 euro bill (owed)",
    event: {
      failure: { type: "billing_error", severity: 2, root_cause: "provider",
                 amount_at_stake: { amount: "4.00", currency: "EUR" } },
      order: { amount: { amount: "60.00", currency: "EUR" } },
    },
  },
  {
    label: "Wrecked 5,000 euro bike, the owner asks for a refund (alternatives)",
    event: {
      failure: { type: "damaged_item", severity: 4, root_cause: "provider" },
      order: { amount: { amount: "5000.00", currency: "EUR" } },
      context: { customer_request: "refund", locale: "lv" },
    },
  },
  {
    label: "Rude agent, complaint on social media",
    event: {
      failure: { type: "rude_agent", severity: 2, root_cause: "provider" },
      order: { amount: { amount: "40.00", currency: "EUR" } },
      context: { channel: "social", minutes_since_report: 25 },
    },
  },
  {
    label: "A 400 euro order so late it was worthless",
    event: {
      failure: { type: "late_delivery", severity: 4, root_cause: "provider", value_received: "none" },
      order: { amount: { amount: "400.00", currency: "EUR" } },
    },
  },
];
