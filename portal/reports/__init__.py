"""PDF builders (ReportLab) for the month-end reports; they take plain data and return bytes."""

from reportlab import rl_config

# ReportLab checks every attribute set on a chart shape against its schema, a development aid:
# it was a third of a regional PDF's time (18 bar charts). Off before any ``reportlab.graphics``
# module is imported, since they read it when their classes are defined.
rl_config.shapeChecking = 0
# Compressed page streams stay binary: their ASCII85 armour, made for 7-bit channels, was 4 % of
# an archive's time (and 5 % of a site PDF's size).
rl_config.useA85 = 0
