"""PDF builders (ReportLab) for the month-end reports; they take plain data and return bytes."""
