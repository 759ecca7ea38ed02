from tests.matrix import page

MATRIX = {
    "dashboard": page(read="admin supervisor"),
}
