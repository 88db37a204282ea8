"""Group programmes are not in Django's admin: they hold records on their roster and notes (administrators read
no client content). The group fee is the clinic's `SessionFee` of the kind "group", on the clinic's page."""
