"""Reports people read: payee statements, team pages, a leaderboard, a workbook.

``kpidsl.report.model.build_model(plan, raw, result)`` gathers what a report
shows; ``kpidsl.report.site.site_files`` lays it out as a static HTML site and
``kpidsl.report.xlsx.workbook_bytes`` as an Excel workbook;
``kpidsl.report.site.write_tree``/``write_file`` write them atomically.
(Nothing is imported here, so that ``kpidsl`` commands start fast.)
"""
