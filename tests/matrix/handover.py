from tests.matrix import EVERYONE, page, rights

FRONT = "admin supervisor clerk security"

MATRIX = {
    "roster": page(read=FRONT),
    "shift": rights(
        read=FRONT, write="admin supervisor", delete="admin supervisor", export="admin supervisor"
    ),
    "handover": page(read=FRONT),
    "handover_entry": rights(read=FRONT, write=FRONT, delete="admin", export="admin supervisor"),
    "cleaning": page(read=FRONT),
    "cleaning_issue": rights(read=FRONT, write="admin", delete="admin", export="admin supervisor"),
    "cleaning_area": rights(
        read=FRONT, write="admin supervisor", delete="admin", export="admin supervisor"
    ),
    "grooming": page(read="admin supervisor"),
    "breaks": page(read=EVERYONE),
}
