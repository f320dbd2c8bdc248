"""The ``charter`` command line: thin doors into the library."""
