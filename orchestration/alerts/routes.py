"""ALERT_ROUTES_FILE: named destinations, and the routes that send each alert to some of them.

    destinations:
      sales:  {type: slack, url_env: SALES_SLACK_URL}
      oncall: {type: pagerduty, routing_key_env: PD_ROUTING_KEY}
    routes:
      - {alert_types: [quota_threshold], thresholds: [80, 95], to: sales}
      - {alert_types: [endpoint_degradation], to: oncall}

An alert goes to the union of the destinations of every route it matches, and always to the
alerts file. Secrets never sit in the file: a destination names the environment variable that
holds its URL, routing key or signing secret. The file is read with yaml.compose, so every
problem is one line naming the file and the line, raised before anything is sent
(RoutesFileError, exit 2 from the CLI). README.md ("Routes") documents the format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orchestration.alerts.config import RULE_ALERT_TYPES
from orchestration.alerts.email import (
    EmailSink,
    SmtpSettings,
    SmtpSettingsError,
    is_address,
    smtp_settings_from,
)
from orchestration.alerts.ledger import Alert
from orchestration.alerts.pagerduty import EVENTS_URL, SEVERITIES, PagerDutySink
from orchestration.alerts.sinks import RoutedSink, Sink, WebhookSink
from orchestration.errors import UsageError, closest
from orchestration.verdict_words import QUOTA_ACTION_ADVICE

# The ledger's alert types (marts.alert_candidates, refresh_failed) and the digests' rows.
ALERT_TYPES = (*RULE_ALERT_TYPES, "refresh_failed", "digest_daily", "digest_weekly")
QUOTA_TYPE = "quota_threshold"
QUOTA_THRESHOLDS = (80, 95, 100)
QUOTA_ACTIONS = tuple(QUOTA_ACTION_ADVICE)  # marts.quota_outlook.action, carried in detail.action
DESTINATION_TYPES = ("webhook", "slack", "email", "pagerduty")
# The alerts file gets every alert; `webhook` is ALERT_WEBHOOK_URL, which routes may name.
FILE_NAME, WEBHOOK_NAME = "file", "webhook"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEYS = {
    "webhook": ({"type", "url_env"}, {"secret_env"}),
    "slack": ({"type", "url_env"}, set()),
    "email": ({"type", "to"}, set()),
    "pagerduty": ({"type", "routing_key_env"}, {"url", "severity"}),
}
_ROUTE_KEYS = ({"alert_types", "to"}, {"thresholds", "actions"})


class RoutesFileError(UsageError):
    """ALERT_ROUTES_FILE is unusable: one line naming the file and the line."""


@dataclass(frozen=True)
class Destination:
    name: str
    type: str
    line: int
    to: tuple[str, ...] = ()  # email
    url: str | None = field(default=None, repr=False)  # webhook, slack (secret), pagerduty
    secret: str | None = field(default=None, repr=False)  # webhook signing secret
    routing_key: str | None = field(default=None, repr=False)  # pagerduty
    severity: str | None = None  # pagerduty


@dataclass(frozen=True)
class Route:
    number: int  # 1-based, as the errors and the README count them
    line: int
    alert_types: frozenset[str]
    to: tuple[str, ...]
    thresholds: frozenset[int] | None = None
    actions: frozenset[str] | None = None

    def matches(self, alert: Alert) -> bool:
        if alert.alert_type not in self.alert_types:
            return False
        if self.thresholds is not None and alert.threshold not in self.thresholds:
            return False
        return self.actions is None or alert.detail.get("action") in self.actions


@dataclass(frozen=True)
class AlertRoutes:
    source: str  # the file, as ALERT_ROUTES_FILE names it
    destinations: tuple[Destination, ...] = field(repr=False)
    routes: tuple[Route, ...]
    smtp: SmtpSettings | None = field(default=None, repr=False)  # when an email destination exists

    def destinations_for(self, alert: Alert) -> tuple[str, ...]:
        """The destinations of every route the alert matches, once each, in the file's order."""
        wanted = {name for route in self.routes if route.matches(alert) for name in route.to}
        return tuple(name for name in self.names() if name in wanted)

    def names(self) -> tuple[str, ...]:
        named = [name for route in self.routes for name in route.to]
        webhook = (WEBHOOK_NAME,) if WEBHOOK_NAME in named else ()
        return tuple(d.name for d in self.destinations) + webhook

    def build_sinks(self, *, webhook: Sink | None, timeout_seconds: float) -> list[Sink]:
        """One routed sink per destination (and the webhook when a route names it)."""
        sinks: list[Sink] = []
        for destination in self.destinations:
            sinks.append(self._routed(_destination_sink(destination, self.smtp, timeout_seconds)))
        if webhook is not None and WEBHOOK_NAME in self.names():
            sinks.append(self._routed(webhook))
        return sinks

    def _routed(self, sink: Sink) -> RoutedSink:
        name = sink.name
        return RoutedSink(sink, wants=lambda alert: name in self.destinations_for(alert))


def _destination_sink(destination: Destination, smtp: SmtpSettings | None, timeout_seconds: float) -> Sink:
    if destination.type == "email":
        if smtp is None:  # load_routes never leaves it so
            raise ValueError(f"email destination {destination.name!r} without SMTP settings")
        return EmailSink(name=destination.name, to=destination.to, smtp=smtp)
    if destination.type == "pagerduty":
        return PagerDutySink(
            name=destination.name,
            routing_key=destination.routing_key or "",
            url=destination.url or EVENTS_URL,
            severity=destination.severity,
            timeout_seconds=timeout_seconds,
        )
    return WebhookSink(
        url=destination.url or "",
        secret=destination.secret,
        format="slack" if destination.type == "slack" else "json",
        timeout_seconds=timeout_seconds,
        name=destination.name,
    )


def load_routes(
    path: Path,
    *,
    environ: Mapping[str, str],
    has_webhook: bool,
    timeout_seconds: float,
    shown_as: str | None = None,
) -> AlertRoutes:
    """Parse and check the routes file and the variables it names; RoutesFileError otherwise."""
    return _Reader(shown_as or str(path), environ, has_webhook, timeout_seconds).read(path)


class _Reader:
    def __init__(self, source: str, environ: Mapping[str, str], has_webhook: bool, timeout: float) -> None:
        self.source, self.environ, self.has_webhook, self.timeout = source, environ, has_webhook, timeout

    def error(self, node: yaml.Node | None, message: str) -> RoutesFileError:
        where = f" line {node.start_mark.line + 1}" if node is not None else ""
        return RoutesFileError(f"ALERT_ROUTES_FILE {self.source}{where}: {message}")

    def read(self, path: Path) -> AlertRoutes:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.error(None, "no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error(None, f"cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = " ".join(str(exc.problem or "").split())
            if (
                exc.context
                and exc.context_mark is not None
                and exc.context_mark.line != getattr(mark, "line", None)
            ):
                # Where the unclosed bracket or the block began, which is often the mistake.
                problem = f"{' '.join(exc.context.split())} from line {exc.context_mark.line + 1}: {problem}"
            raise RoutesFileError(
                f"ALERT_ROUTES_FILE {self.source}{where}: not valid YAML ({problem})"
            ) from None
        except yaml.YAMLError as exc:
            raise self.error(None, f"not valid YAML ({' '.join(str(exc).split())})") from None
        if root is None:
            raise self.error(None, "the file is empty: expected `destinations:` and `routes:`")
        top = self.mapping(root, "the file", required={"destinations", "routes"}, optional=set())
        destinations = self.destinations(top["destinations"])
        routes = self.routes(top["routes"], {d.name: d for d in destinations})
        smtp = self.smtp(destinations)
        return AlertRoutes(self.source, tuple(destinations), tuple(routes), smtp)

    # -- shapes --------------------------------------------------------------------------------

    def mapping(
        self, node: yaml.Node, what: str, *, required: set[str], optional: set[str]
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of keys to values")
        values: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node, "a key")
            if key in values:
                raise self.error(key_node, f"{what}: `{key}` is given twice")
            if key not in required | optional:
                expected = ", ".join(sorted(required | optional))
                raise self.error(key_node, f"{what}: unknown key `{key}` (expected: {expected})")
            values[key] = value_node
        missing = sorted(required - set(values))
        if missing:
            raise self.error(node, f"{what}: missing `{'`, `'.join(missing)}`")
        return values

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.error(node, f"{what} must be a single value")
        return str(node.value)

    def items(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        """A list, or one value standing for a list of one."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            raise self.error(node, f"{what} is empty")
        return items

    # -- destinations ----------------------------------------------------------------------------

    def destinations(self, node: yaml.Node) -> list[Destination]:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            raise self.error(node, "`destinations` must map each destination's name to its settings")
        found: list[Destination] = []
        for name_node, spec_node in node.value:
            name = self.scalar(name_node, "a destination's name")
            if name in {d.name for d in found}:
                raise self.error(name_node, f"destination '{name}' is defined twice")
            if name == FILE_NAME:
                raise self.error(
                    name_node, "'file' is the alerts file, which gets every alert: pick another name"
                )
            if name == WEBHOOK_NAME:
                raise self.error(
                    name_node,
                    "'webhook' is ALERT_WEBHOOK_URL's destination (routes may name it): pick another name",
                )
            if not _NAME.fullmatch(name):
                raise self.error(name_node, f"destination name '{name}': use letters, digits, _ and - only")
            found.append(self.destination(name, name_node, spec_node))
        return found

    def destination(self, name: str, name_node: yaml.Node, node: yaml.Node) -> Destination:
        what = f"destination '{name}'"
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping with at least `type`")
        kind_node = next((v for k, v in node.value if getattr(k, "value", None) == "type"), None)
        if kind_node is None:
            raise self.error(node, f"{what}: missing `type` (one of {', '.join(DESTINATION_TYPES)})")
        kind = self.scalar(kind_node, "`type`")
        if kind not in DESTINATION_TYPES:
            raise self.error(
                kind_node, f"{what}: unknown type '{kind}' (known: {', '.join(DESTINATION_TYPES)})"
            )
        for key_node, _ in node.value:
            secrets = ("secret", "routing_key") if kind == "pagerduty" else ("url", "secret", "routing_key")
            if getattr(key_node, "value", None) in secrets:
                raise self.error(
                    key_node,
                    f"{what}: secrets never go in the file: name the variable with `{key_node.value}_env`",
                )
        required, optional = _KEYS[kind]
        spec = self.mapping(node, what, required=required, optional=optional)
        line = name_node.start_mark.line + 1
        if kind == "email":
            to = tuple(self.address(item, what) for item in self.items(spec["to"], f"{what}: `to`"))
            return Destination(name, kind, line, to=to)
        if kind == "pagerduty":
            url = self.url(spec["url"], what, self.scalar(spec["url"], "`url`")) if "url" in spec else None
            severity = self.scalar(spec["severity"], "`severity`") if "severity" in spec else None
            if severity is not None and severity not in SEVERITIES:
                raise self.error(spec["severity"], f"{what}: severity must be one of {', '.join(SEVERITIES)}")
            key = self.secret(spec["routing_key_env"], what, "routing_key_env")
            return Destination(name, kind, line, url=url, routing_key=key, severity=severity)
        url_node = spec["url_env"]
        url = self.url(url_node, what, self.secret(url_node, what, "url_env"), variable=True)
        secret = self.secret(spec["secret_env"], what, "secret_env") if "secret_env" in spec else None
        return Destination(name, kind, line, url=url, secret=secret)

    def secret(self, node: yaml.Node, what: str, key: str) -> str:
        variable = self.scalar(node, f"`{key}`")
        value = self.environ.get(variable, "").strip()
        if not value:
            raise self.error(
                node, f"{what} needs the environment variable {variable} ({key}), which is not set"
            )
        return value

    def url(self, node: yaml.Node, what: str, value: str, *, variable: bool = False) -> str:
        if not value.lower().startswith(("http://", "https://")):
            # Never the value itself: a URL held in a variable may embed a token.
            shown = f"{node.value} is" if variable else "`url` is"
            raise self.error(node, f"{what}: {shown} not an http:// or https:// URL")
        return value

    def address(self, node: yaml.Node, what: str) -> str:
        address = self.scalar(node, "an email address").strip()
        if not is_address(address):
            raise self.error(node, f"{what}: '{address}' is not an email address")
        return address

    def smtp(self, destinations: list[Destination]) -> SmtpSettings | None:
        emails = [d for d in destinations if d.type == "email"]
        if not emails:
            return None
        try:
            return smtp_settings_from(self.environ, timeout_seconds=self.timeout)
        except SmtpSettingsError as exc:
            first = emails[0]
            raise RoutesFileError(
                f"ALERT_ROUTES_FILE {self.source} line {first.line}: destination '{first.name}' sends "
                f"email, but {exc}"
            ) from None

    # -- routes ------------------------------------------------------------------------------------

    def routes(self, node: yaml.Node, destinations: dict[str, Destination]) -> list[Route]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error(node, "`routes` must be a list of routes (alert_types, to)")
        known = [*destinations, *([WEBHOOK_NAME] if self.has_webhook else [])]
        return [self.route(number, item, known) for number, item in enumerate(node.value, start=1)]

    def route(self, number: int, node: yaml.Node, known: list[str]) -> Route:
        what = f"route {number}"
        spec = self.mapping(node, what, required=_ROUTE_KEYS[0], optional=_ROUTE_KEYS[1])
        types = []
        for item in self.items(spec["alert_types"], f"{what}: `alert_types`"):
            alert_type = self.scalar(item, "an alert type")
            if alert_type not in ALERT_TYPES:
                raise self.error(
                    item, f"{what}: unknown alert type '{alert_type}'{_hint(alert_type, ALERT_TYPES)}"
                )
            types.append(alert_type)
        thresholds = actions = None
        if ("thresholds" in spec or "actions" in spec) and set(types) != {QUOTA_TYPE}:
            key_node = spec.get("thresholds") or spec["actions"]
            raise self.error(
                key_node,
                f"{what}: thresholds and actions apply to quota alerts: use `alert_types: [{QUOTA_TYPE}]`",
            )
        if "thresholds" in spec:
            thresholds = frozenset(
                self.threshold(item, what) for item in self.items(spec["thresholds"], f"{what}: `thresholds`")
            )
        if "actions" in spec:
            actions = frozenset(
                self.action(item, what) for item in self.items(spec["actions"], f"{what}: `actions`")
            )
        to = []
        for item in self.items(spec["to"], f"{what}: `to`"):
            name = self.scalar(item, "a destination's name")
            if name == WEBHOOK_NAME and not self.has_webhook:
                raise self.error(item, f"{what} sends to 'webhook', but ALERT_WEBHOOK_URL is not set")
            if name not in known:
                raise self.error(
                    item, f"{what} sends to '{name}', which is not a destination (known: {', '.join(known)})"
                )
            if name not in to:
                to.append(name)
        return Route(number, node.start_mark.line + 1, frozenset(types), tuple(to), thresholds, actions)

    def threshold(self, node: yaml.Node, what: str) -> int:
        text = self.scalar(node, "a threshold")
        if not text.isdigit() or int(text) not in QUOTA_THRESHOLDS:
            raise self.error(
                node, f"{what}: threshold {text} is not one of {', '.join(map(str, QUOTA_THRESHOLDS))}"
            )
        return int(text)

    def action(self, node: yaml.Node, what: str) -> str:
        action = self.scalar(node, "an action")
        if action not in QUOTA_ACTIONS:
            raise self.error(node, f"{what}: unknown quota action '{action}'{_hint(action, QUOTA_ACTIONS)}")
        return action


def _hint(value: str, known: tuple[str, ...]) -> str:
    close = closest(value, known)
    suggestion = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f" ({suggestion}known: {', '.join(known)})"
