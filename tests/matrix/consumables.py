from tests.matrix import page, rights

MATRIX = {
    "stock": page(read="admin supervisor clerk"),
    "tally": page(read="admin supervisor clerk"),
    "product": rights(
        read="admin supervisor clerk",
        write="admin supervisor clerk",
        delete="admin",
        export="admin supervisor",
    ),
    "stockmovement": rights(read="admin supervisor clerk", export="admin supervisor"),
    "dailytally": rights(read="admin supervisor clerk", export="admin supervisor"),
}
