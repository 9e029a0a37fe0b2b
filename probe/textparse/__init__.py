"""Pure string parsers for what portals print: dates and e-mail addresses.

They live outside `checks/` because extraction (probe/extract.py) calls them once per page
and stores the result in `Page.dates` / `Page.emails`; checks then only read those.
"""

from probe.textparse.dates import find_dates
from probe.textparse.emails import find_emails

__all__ = ["find_dates", "find_emails"]
