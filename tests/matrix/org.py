from tests.matrix import EVERYONE, page, rights

MATRIX = {
    "site": rights(read=EVERYONE, write="admin", delete="admin", export="admin supervisor"),
    "showunit": rights(
        read=EVERYONE, write="admin supervisor", delete="admin", export="admin supervisor"
    ),
    "staff": rights(
        read=EVERYONE, write="admin supervisor", delete="admin", export="admin supervisor"
    ),
    "user": rights(
        read="admin supervisor", write="admin", delete="admin", export="admin supervisor"
    ),
    "region": rights(
        read="admin supervisor", write="admin", delete="admin", export="admin supervisor"
    ),
    "audit": rights(read="admin supervisor", export="admin supervisor"),
    "trash": page(read="admin"),
    "account": page(read=EVERYONE),
}
