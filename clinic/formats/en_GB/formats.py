"""The clinic's one date style (UK, day first, month in words so it cannot be misread),
used by every `|date` filter without an argument and by the admin."""

DATE_FORMAT = "j F Y"  # 3 March 2026
DATETIME_FORMAT = "j F Y, H:i"  # 3 March 2026, 14:30
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]
FIRST_DAY_OF_WEEK = 1
