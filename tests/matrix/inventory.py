from tests.matrix import page, rights

MATRIX = {
    "itemcheck": page(read="admin supervisor clerk"),
    "discrepancy": rights(
        read="admin supervisor", write="admin supervisor", export="admin supervisor"
    ),
    "itemcheckrecord": rights(read="admin supervisor clerk", export="admin supervisor"),
    "item": rights(
        read="admin supervisor clerk",
        write="admin supervisor",
        delete="admin supervisor",
        export="admin supervisor",
    ),
}
