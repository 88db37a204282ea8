"""English UI with the same ISO dates as Swedish, so a date reads the same in both languages."""

from kast.formats.sv.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
