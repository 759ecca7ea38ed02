from tests.matrix import page

MATRIX = {
    # Sales have no repair tickets (they confirm damage reports); security sees the ones she reported.
    "repairs": page(read="admin supervisor clerk security maintenance"),
}
