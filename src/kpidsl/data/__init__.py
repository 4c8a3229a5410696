"""Data: reading CSV folders, Python records and test tables, and binding them to a plan.

See ``docs/data.md``: :mod:`.csvread` and :mod:`.records` produce raw tables,
:mod:`.bind` types and validates them into a :class:`~kpidsl.data.model.Dataset`.
"""
