"""The CJK font embedded in every PDF and chart, registered once per process.

ReportLab's built-in ``STSong-Light`` is a CID font that is *not embedded*: viewers without
Chinese fonts show boxes. WenQuanYi Micro Hei is TrueType (glyf outlines), which ReportLab
can subset and embed (Noto CJK is CFF-based and cannot be read).
"""

import os
import threading
from contextlib import contextmanager

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WQYMicroHei"
FONT_PATH = os.environ.get("PORTAL_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
_lock = threading.Lock()
# ReportLab subsets an embedded TrueType font by reading the font file through one parser
# shared by every document in the process (it seeks and reads at a shared position), so two
# documents written at once from two threads read each other's offsets and fail. Sync
# gunicorn workers write one document at a time; threaded servers must take turns.
_writing = threading.Lock()


def cjk_font():
    """Register the font (first call only) and return its ReportLab name."""
    with _lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            if not os.path.exists(FONT_PATH):
                raise RuntimeError(
                    f"CJK font missing: {FONT_PATH} (install fonts-wqy-microhei: make system-deps)"
                )
            pdfmetrics.registerFont(TTFont(FONT_NAME, FONT_PATH, subfontIndex=0))
    return FONT_NAME


@contextmanager
def writing_document():
    """Hold while a document that embeds the font is written (built or saved)."""
    with _writing:
        yield
