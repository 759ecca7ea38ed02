from tests.matrix import page, rights

MATRIX = {
    # Sales have no repair tickets (they confirm damage reports); security sees the ones she
    # reported.
    "repairs": page(read="admin supervisor clerk security maintenance"),
    # Every ticket as a filterable list: what the dashboard's repair figures drill into.
    "repairticket": rights(read="admin supervisor", export="admin supervisor"),
}
