from tests.matrix import page

MATRIX = {
    "dashboard": page(read="admin supervisor"),
    # The records behind a figure (the dashboard's drill-downs).
    "figure_records": page(read="admin supervisor"),
}
