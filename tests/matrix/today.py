from tests.matrix import page

MATRIX = {
    "today": page(read="admin supervisor clerk security"),
}
