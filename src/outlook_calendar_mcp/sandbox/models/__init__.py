"""Domain and storage of the sandbox, with no HTTP: the store (all of its SQL), events and recurrence,
OData, bodies and action parameters, meetings, availability, attachments, reminders, sharing, the seed."""
