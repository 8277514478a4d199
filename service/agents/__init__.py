"""AI agents' wing: the decision tools (plain functions over decide), check_offer, caller profiles, and the
MCP server and function schemas on top of them."""
