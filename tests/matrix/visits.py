from tests.matrix import page, rights

MATRIX = {
    "visits": page(read="admin supervisor clerk security sales"),
    "visit": rights(
        read="admin supervisor clerk security sales",
        write="admin supervisor clerk security",
        delete="admin",
        export="admin supervisor",
    ),
}
