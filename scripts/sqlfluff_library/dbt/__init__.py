"""Stand-ins for the dbt cross-database macros, so sqlfluff's jinja templater can render models
that call `dbt.datediff` / `dbt.dateadd` (docs/design.md). The SQL only needs to parse, not to run."""


def datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def dateadd(datepart: str, interval: int | str, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + interval ({interval}) {datepart})"
