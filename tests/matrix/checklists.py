from tests.matrix import page, rights

MATRIX = {
    "checklist": page(read="admin supervisor clerk security"),
    "checklistrun": rights(read="admin supervisor clerk security", export="admin supervisor"),
    "checklisttemplate": rights(
        read="admin supervisor", write="admin supervisor", delete="admin", export="admin supervisor"
    ),
}
