from tests.matrix import page

MATRIX = {
    "damage": page(read="admin supervisor clerk sales"),
}
