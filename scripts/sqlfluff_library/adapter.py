"""Stand-in for dbt's `adapter`, so sqlfluff's jinja templater can render the macros that
dispatch per engine (docs/design.md "Two engines"). A dispatched expression lints as a plain
function call with the same arguments; a lateral row source (days_through, integers_through)
as DuckDB's generate_series join with the same alias; an incremental model's engine config as
no extra setting. The SQL only needs to parse."""


def _row_source(macro_name: str, args: tuple) -> str:
    if macro_name == "days_through":
        start, end, alias = args
        return f"cross join lateral generate_series({start}, {end}, interval 1 day) as {alias} (day)"
    first, last, alias, column = args
    return f"cross join lateral generate_series({first}, {last}) as {alias} ({column})"


def _argument(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _json_figures(fields: list | tuple = (), *args: object, **kwargs: object) -> str:
    # json_figures takes (name, expression) pairs: a function call over the expressions.
    values = [field if isinstance(field, str) else str(field[1]) for field in fields]
    return f"json_figures({', '.join(values)})"


def _incremental_by_day(*args: object) -> dict:
    # A model's engine-specific config: nothing that changes how its SQL lints.
    return {}


def dispatch(macro_name: str, macro_namespace: str | None = None):
    if macro_name == "json_figures":
        return _json_figures
    if macro_name in ("incremental_by_day", "sealed_days_kept"):
        return _incremental_by_day

    def render(*args: object) -> str:
        if macro_name in ("days_through", "integers_through"):
            return _row_source(macro_name, args)
        if macro_name == "plan_catalogue_select":
            # A whole query (the plan catalogue's lines), used as a CTE's body.
            return "select * from read_text('plans.csv')"
        return f"{macro_name}({', '.join(_argument(arg) for arg in args)})"

    return render
