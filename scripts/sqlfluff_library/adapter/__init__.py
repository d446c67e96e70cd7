"""Stand-in for dbt's `adapter.dispatch`, so sqlfluff's jinja templater can render models that
call a dispatching macro (json_figures): the call becomes `<macro name>(<the expressions>)`, a
function call over the same columns, which parses wherever an expression may stand. The SQL only
needs to parse, not to run."""

from collections.abc import Callable


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    def render(fields: list | tuple = (), *args: object, **kwargs: object) -> str:
        values = [field if isinstance(field, str) else str(field[1]) for field in fields]
        return f"{macro_name}({', '.join(values)})"

    return render
