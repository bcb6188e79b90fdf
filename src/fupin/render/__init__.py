"""Renderers of the yearly report into files a office exchanges (internal; the public entry points are
:func:`fupin.render_report` and :func:`fupin.render_report_bytes`).

``layout`` walks a :class:`fupin.YearlyReport` into the parts of the 年度帮扶工作总结 (one walk for
every file format), ``docx`` writes Word, ``xlsx`` writes Excel.
"""
