"""Calendar operations without MCP: plain async functions over a GraphClient.

The tools (``..tools``) are thin over these: they validate their arguments, call an operation here
and shape the answer through ``..views``. Nothing here imports the MCP SDK.

* :mod:`.services` - :class:`Services`: the Graph client, handles, the clock and caches, one per server
* :mod:`.errors`   - :class:`InputError`: input that cannot work, said with the fix
* :mod:`.targets`  - whose calendar (mailbox path, zone, what a 403 means)
* :mod:`.times`    - the one parser of user times (the DST-gap rule) and windows
* :mod:`.together` - Graph reads in flight together (the zone with what needs none): fewer waits
* :mod:`.bodies`   - tool input -> Graph event bodies (times, attendees, locations, recurrence)
* :mod:`.edits`    - creating an event (duplicates refused, conflicts found) and changing one in its scope
* :mod:`.events`   - one event: its path, the fields a change sets, the times a PATCH keeps or moves
* :mod:`.series`   - recurring series: scope checks, original dates, ending, changing, splitting
* :mod:`.conflicts` - what a new or moved event overlaps, and duplicates
* :mod:`.calendars` - a mailbox's calendars and calendar groups
* :mod:`.sharing`  - who a calendar is shared with, sharing it, changing a role, unsharing
* :mod:`.responses` - answering a meeting (with a proposed time), forwarding, cancelling it
* :mod:`.reminders` - which reminders go off in a window, snoozing (on the clock) and dismissing one
* :mod:`.people`   - people and rooms by name or address, meeting lengths
* :mod:`.attachments` - large file attachments through an upload session
* :mod:`.sync`     - what changed in a window since the last look (calendarView delta)
* :mod:`.sync_state` - its delta links, in data_dir/sync.db
"""

from .errors import InputError
from .services import Services

__all__ = ["InputError", "Services"]
