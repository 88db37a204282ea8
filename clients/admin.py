# Client records are deliberately not in Django's admin: administrators read no client content.
